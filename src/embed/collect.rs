//! [`Collected`]: the batches of one request gathered into [`Embeddings`], every vector
//! checked on the way in; and the checks a provider's reply needs before that.

use tokio::time::Instant;

use crate::error::{Error, ErrorKind, Result};
use crate::origin::Origin;
use crate::pricing::Pricing;
use crate::stream::info::estimate_tokens;

use super::{EmbedRequest, EmbedUsage, Embeddings};

/// What one request came back with, as a provider's API decoded it.
#[derive(Debug, Default, PartialEq)]
pub struct Batch {
    /// The vectors, in the order of the batch's inputs.
    pub(crate) vectors: Vec<Vec<f32>>,
    /// The tokens the server counted, when it said.
    pub(crate) tokens_in: Option<u64>,
    /// The model as the server named it.
    pub(crate) model: Option<String>,
}

/// The vectors of `items` (each with the index the server gave it) in index order:
/// exactly one for each index from 0 to `expected`, whatever order they came in.
///
/// # Errors
/// What is wrong, for a message: too few or too many, an index past the end, or twice.
pub(crate) fn in_index_order(
    items: Vec<(u64, Vec<f32>)>,
    expected: usize,
) -> std::result::Result<Vec<Vec<f32>>, String> {
    if items.len() != expected {
        return Err(format!("{} embeddings for {expected} inputs", items.len()));
    }
    let mut slots: Vec<Option<Vec<f32>>> = (0..expected).map(|_| None).collect();
    for (index, vector) in items {
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| slots.get_mut(i))
            .ok_or_else(|| format!("an embedding at index {index}, past the {expected} inputs"))?;
        if slot.is_some() {
            return Err(format!("two embeddings at index {index}"));
        }
        *slot = Some(vector);
    }
    // As many items as slots, none twice: every slot is filled.
    Ok(slots.into_iter().flatten().collect())
}

/// The error for an embeddings reply that breaks the API's rules (`protocol`, not
/// retried).
pub(crate) fn malformed(origin: &Origin, detail: &str) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!(
            "{}: malformed embeddings from {}: {detail}. The server may not speak this API; check the base URL and the model",
            origin.provider(),
            origin.base()
        ),
    )
}

/// The vectors of one request so far, with what they cost.
#[derive(Debug)]
pub(crate) struct Collected {
    provider: String,
    model: String,
    pricing: Pricing,
    started: Instant,
    asked_dimensions: Option<usize>,
    /// The most bytes of vectors held (4 a number).
    max_bytes: usize,
    vectors: Vec<Vec<f32>>,
    held: usize,
    tokens_in: u64,
    estimated: bool,
    server_model: Option<String>,
}

impl Collected {
    /// Nothing yet of `request`, sent to `model` of `provider`, priced by `pricing`;
    /// timed from now.
    pub(crate) fn new(
        provider: &str,
        model: &str,
        pricing: Pricing,
        request: &EmbedRequest,
        max_bytes: usize,
    ) -> Collected {
        Collected {
            provider: provider.to_owned(),
            model: model.to_owned(),
            pricing,
            started: Instant::now(),
            asked_dimensions: request.dimensions.map(|d| d as usize),
            max_bytes,
            vectors: Vec::with_capacity(request.inputs.len().min(1 << 16)),
            held: 0,
            tokens_in: 0,
            estimated: false,
            server_model: None,
        }
    }

    /// Takes the vectors of `inputs`, the next inputs in order, from `origin`: as many
    /// as inputs, none empty, all of one length (the one asked for, if any), every
    /// number finite, and all of them within the cap.
    ///
    /// # Errors
    /// `protocol` naming the input at fault, or the cap.
    pub(crate) fn push(&mut self, batch: Batch, inputs: &[String], origin: &Origin) -> Result<()> {
        if batch.vectors.len() != inputs.len() {
            let detail = format!(
                "{} embeddings for {} inputs",
                batch.vectors.len(),
                inputs.len()
            );
            return Err(malformed(origin, &detail));
        }
        // The length every vector must have: the one asked for, else the first one's.
        let length = self
            .asked_dimensions
            .or(self.vectors.first().map(Vec::len))
            .or(batch.vectors.first().map(Vec::len))
            .unwrap_or(0);
        let mut bytes = 0usize;
        for (i, vector) in batch.vectors.iter().enumerate() {
            let at = self.vectors.len().saturating_add(i);
            self.check(at, vector, length, origin)?;
            bytes = bytes.saturating_add(vector.len().saturating_mul(4));
        }
        let held = self.held.saturating_add(bytes);
        if held > self.max_bytes {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "{}: the embeddings would hold more than the limit of {} bytes (max_reply_bytes, 4 bytes a number): embed fewer inputs per call, or raise the provider's max_reply_bytes",
                    self.provider, self.max_bytes
                ),
            ));
        }
        self.held = held;
        match batch.tokens_in {
            Some(tokens) => self.tokens_in = self.tokens_in.saturating_add(tokens),
            None => {
                self.estimated = true;
                let estimate = inputs
                    .iter()
                    .map(|t| estimate_tokens(t))
                    .fold(0, u64::saturating_add);
                self.tokens_in = self.tokens_in.saturating_add(estimate);
            }
        }
        if let Some(model) = batch.model.filter(|m| !m.trim().is_empty()) {
            self.server_model = Some(model);
        }
        self.vectors.extend(batch.vectors);
        Ok(())
    }

    /// Checks the vector of input `at`, which must have `length` numbers.
    fn check(&self, at: usize, vector: &[f32], length: usize, origin: &Origin) -> Result<()> {
        if vector.is_empty() {
            return Err(malformed(
                origin,
                &format!("the embedding of input {at} is empty"),
            ));
        }
        if let Some(bad) = vector.iter().find(|v| !v.is_finite()) {
            let detail = format!("the embedding of input {at} holds {bad}, not a finite number");
            return Err(malformed(origin, &detail));
        }
        let len = vector.len();
        if len == length {
            return Ok(());
        }
        let detail = if self.asked_dimensions.is_some() {
            format!("the embedding of input {at} has {len} dimensions where {length} were asked for (the model may not shorten its vectors: leave dimensions unset)")
        } else {
            format!("the embedding of input {at} has {len} dimensions, the first one {length}")
        };
        Err(malformed(origin, &detail))
    }

    /// The embeddings, with their usage: timed to now, priced.
    pub(crate) fn finish(self) -> Embeddings {
        let latency_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let usage = EmbedUsage::priced(self.tokens_in, self.estimated, latency_ms, self.pricing);
        let model = self.server_model.unwrap_or(self.model);
        Embeddings::new(self.provider, model, self.vectors, usage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Items in any order, with any indexes: in index order when they are exactly
        /// one per input, else an error; never a panic, never a vector in another's place.
        #[test]
        fn indexes_put_vectors_in_place_or_fail(
            indexes in proptest::collection::vec(0u64..12, 0..12),
            expected in 0usize..12,
        ) {
            let items: Vec<(u64, Vec<f32>)> =
                indexes.iter().map(|i| (*i, vec![*i as f32])).collect();
            let mut sorted = indexes.clone();
            sorted.sort_unstable();
            let exact = sorted == (0..expected as u64).collect::<Vec<_>>();
            match in_index_order(items, expected) {
                Ok(vectors) => {
                    proptest::prop_assert!(exact);
                    for (i, v) in vectors.iter().enumerate() {
                        proptest::prop_assert_eq!(v, &vec![i as f32]);
                    }
                }
                Err(_) => proptest::prop_assert!(!exact),
            }
        }
    }

    fn origin() -> Origin {
        Origin::new("p", "http://127.0.0.1:1")
    }

    #[test]
    fn vectors_are_checked_across_batches_and_tokens_summed_or_estimated() {
        let request = EmbedRequest::new(["aaaa", "bbbb", "cccc"]);
        let mut collected = Collected::new("p", "m", Pricing::Free, &request, 1 << 20);
        let batch = |vectors: Vec<Vec<f32>>, tokens| Batch {
            vectors,
            tokens_in: tokens,
            model: None,
        };
        let inputs = &request.inputs;
        collected
            .push(
                batch(vec![vec![1.0, 2.0], vec![3.0, 4.0]], Some(5)),
                &inputs[..2],
                &origin(),
            )
            .unwrap();
        let err = collected
            .push(batch(vec![vec![1.0]], None), &inputs[2..], &origin())
            .unwrap_err();
        assert!(
            err.message()
                .contains("input 2 has 1 dimensions, the first one 2"),
            "{err}"
        );
        collected
            .push(batch(vec![vec![5.0, 6.0]], None), &inputs[2..], &origin())
            .unwrap();
        let done = collected.finish();
        assert_eq!(done.vectors, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        assert_eq!(done.usage.tokens_in, 6, "5 reported, 1 estimated");
        assert!(done.usage.tokens_estimated);
        assert_eq!(done.model, "m");
    }
}
