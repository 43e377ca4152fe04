fn main() {
    witness_panel::mount();
}
