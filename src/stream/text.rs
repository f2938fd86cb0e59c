//! [`TextStream`]: the text-only view of a [`ChatStream`], for live display.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures::Stream;

use crate::chunk::{Chunk, Text};
use crate::error::Result;

use super::ChatStream;

/// The text-only view of a [`ChatStream`]; see [`ChatStream::text`].
#[must_use = "a TextStream does nothing until it is polled"]
#[derive(Debug)]
pub struct TextStream {
    pub(super) inner: ChatStream,
}

impl Stream for TextStream {
    type Item = Result<Text>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match ready!(Pin::new(&mut self.inner).poll_next(cx)) {
                Some(Ok(Chunk::Text(text))) => return Poll::Ready(Some(Ok(text))),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            }
        }
    }
}
