//! A response body that holds a guard until the body ends (an SSE stream included): how the
//! accept loop counts a request as in flight (so a streaming connection is never taken for
//! idle) and how the drain counts a call still being answered.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};

/// `inner`, with `guard` dropped only when the body has ended or is dropped.
pub(super) fn hold<G: Send + Unpin + 'static>(inner: Body, guard: G) -> Body {
    Body::new(Guarded { inner, _guard: guard })
}

struct Guarded<G> {
    inner: Body,
    _guard: G,
}

impl<G: Unpin> http_body::Body for Guarded<G> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
