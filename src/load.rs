//! Loading what a page shows, drawing it, and sending what a person asks for, with one
//! compiled copy for every page.
//!
//! Leptos's `LocalResource<T>`, `Suspend`, `Transition` and `ErrorBoundary` are compiled once
//! per wire type and per page (they are generic over the value and over the view), which was a
//! large part of the panel's code. Here every page's data is one type, [`Loaded`] (the value
//! behind `Rc<dyn Any>`), loaded through one resource type and drawn through one view closure:
//! only the small typed shims in [`Load::new`] and [`Load::view`] are per type.
//!
//! What a person sees is what `Transition` gave: the loading message until the first answer,
//! then the answer, kept on screen while a newer one loads (a new page of events, a list
//! reloaded after an action); a failed load shows what could not be loaded and why.
//!
//! [`Act`] does the same for what a page sends (forms, buttons) in place of Leptos's
//! `Action<I, O>`: its answer is a [`Loaded`] too.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use leptos::prelude::*;
use send_wrapper::SendWrapper;

use crate::api::ApiError;

/// What one load gave: the value (downcast by the page that asked for it), or why it failed.
pub type Loaded = Result<Rc<dyn Any>, ApiError>;

type Fetch = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Loaded>>>>;
type Draw = SendWrapper<Box<dyn Fn(State) -> AnyView>>;

/// What [`Load::draw`] hands to a page's view: nothing yet, the value, or the error.
pub enum State<'a> {
    Loading,
    Ready(&'a dyn Any),
    Failed(&'a ApiError),
}

impl State<'_> {
    /// The value, once loaded, if it is a `T`.
    pub fn value<T: 'static>(&self) -> Option<&T> {
        match self {
            State::Ready(value) => value.downcast_ref::<T>(),
            _ => None,
        }
    }
}

/// A page's data, loaded when the page opens and again whenever a signal read by its fetcher
/// changes (or on [`Load::refetch`]).
#[derive(Clone, Copy)]
pub struct Load(LocalResource<Loaded>);

impl Load {
    /// Loads what `fetch` answers. Signals read by `fetch` before its future starts are
    /// tracked: a change starts a new load.
    pub fn new<T, F>(fetch: impl Fn() -> F + 'static) -> Self
    where
        T: 'static,
        F: Future<Output = Result<T, ApiError>> + 'static,
    {
        Self::erased(Box::new(move || {
            let future = fetch();
            Box::pin(async move { future.await.map(|value| Rc::new(value) as Rc<dyn Any>) })
        }))
    }

    fn erased(fetch: Fetch) -> Self {
        Load(LocalResource::new(fetch))
    }

    /// Loads again (the value shown stays until the new one is there).
    pub fn refetch(&self) {
        self.0.refetch();
    }

    /// The view of the data as it is now, drawn again whenever it changes: `draw` is called
    /// untracked, so only the load itself redraws it.
    pub fn draw(self, draw: impl Fn(State) -> AnyView + 'static) -> AnyView {
        Self::draw_erased(self, SendWrapper::new(Box::new(draw)))
    }

    fn draw_erased(self, draw: Draw) -> AnyView {
        (move || {
            let loaded = self.0.get();
            untrack(|| {
                draw(match &loaded {
                    None => State::Loading,
                    Some(Ok(value)) => State::Ready(value.as_ref()),
                    Some(Err(error)) => State::Failed(error),
                })
            })
        })
        .into_any()
    }

    /// The usual way to show a page's data: `loading` as a status line until the first answer,
    /// then `view` of the value, or a list of what went wrong loading `what`.
    pub fn view<T: 'static>(
        self,
        loading: &'static str,
        what: &'static str,
        view: impl Fn(&T) -> AnyView + 'static,
    ) -> AnyView {
        self.draw(move |state| match state {
            State::Loading => loading_line(loading),
            State::Failed(error) => failure(what, error),
            State::Ready(_) => state.value::<T>().map_or_else(|| ().into_any(), &view),
        })
    }
}

/// The status line shown while something loads.
pub fn loading_line(text: &'static str) -> AnyView {
    view! { <p class="loading" role="status">{text}</p> }.into_any()
}

/// What could not be loaded, and why: the server's or the network's message.
pub fn failure(what: &str, error: &ApiError) -> AnyView {
    view! {
        <div class="error" role="alert">
            <p><strong>{format!("Could not load {what}.")}</strong></p>
            <ul>
                <li>{error.to_string()}</li>
            </ul>
        </div>
    }
    .into_any()
}

/// A request a page sends when the person asks for it (a form, a button), with its latest
/// answer, whether one is on its way, and how many answers have come back. One type for every
/// such request: Leptos's `Action<I, O>` is compiled once per input and output type.
#[derive(Clone, Copy)]
pub struct Act {
    answer: RwSignal<Option<Loaded>, LocalStorage>,
    in_flight: RwSignal<usize>,
    version: RwSignal<usize>,
}

impl Default for Act {
    fn default() -> Self {
        Self::new()
    }
}

impl Act {
    pub fn new() -> Self {
        Act {
            answer: RwSignal::new_local(None),
            in_flight: RwSignal::new(0),
            version: RwSignal::new(0),
        }
    }

    /// Sends `request`; its answer becomes [`Act::answer`] when it comes back. An answer that
    /// comes back after the page was left is dropped.
    pub fn run<T: 'static>(self, request: impl Future<Output = Result<T, ApiError>> + 'static) {
        self.run_erased(Box::pin(async move {
            request.await.map(|value| Rc::new(value) as Rc<dyn Any>)
        }))
    }

    fn run_erased(self, request: Pin<Box<dyn Future<Output = Loaded>>>) {
        self.in_flight.update(|count| *count += 1);
        leptos::task::spawn_local(async move {
            let answer = request.await;
            self.answer.try_set(Some(answer));
            self.in_flight.try_update(|count| *count -= 1);
            self.version.try_update(|version| *version += 1);
        });
    }

    /// Whether a request is on its way (tracked).
    pub fn pending(self) -> bool {
        self.in_flight.get() > 0
    }

    /// How many answers have come back (tracked): a resource that reads it loads again after
    /// each.
    pub fn version(self) -> usize {
        self.version.get()
    }

    /// The latest answer (tracked); `None` before the first.
    pub fn answer(self) -> Option<Loaded> {
        self.answer.get()
    }

    /// The latest answer's error, if it was one (tracked).
    pub fn error(self) -> Option<ApiError> {
        self.answer
            .with(|answer| answer.as_ref().and_then(|answer| answer.clone().err()))
    }

    /// The server's message for one field of the latest refused form, if any (tracked).
    pub fn field_error(self, name: &str) -> Option<String> {
        self.error().and_then(|error| error.field(name))
    }

    /// The latest error as text, unless it was a refused form (its messages are shown next to
    /// the fields).
    pub fn form_error(self) -> Option<String> {
        self.error()
            .filter(|error| !matches!(error, ApiError::Invalid { .. }))
            .map(|error| error.to_string())
    }
}
