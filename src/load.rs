//! Loading what a page shows, and drawing it, with one compiled copy for every page.
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
