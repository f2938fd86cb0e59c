//! How a list of inputs is cut into the requests an API accepts.

use std::ops::Range;

/// The inputs cut into consecutive batches, in order: each of at most `max_inputs`
/// inputs and, when `max_chars` is given, at most that many characters in all (an input
/// longer than that goes alone: the server says whether it takes it).
pub(crate) fn batches(
    inputs: &[String],
    max_inputs: usize,
    max_chars: Option<usize>,
) -> Vec<Range<usize>> {
    let max_inputs = max_inputs.max(1);
    let max_chars = max_chars.unwrap_or(usize::MAX);
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = 0usize;
    for (i, input) in inputs.iter().enumerate() {
        let len = input.chars().count();
        let full = i - start == max_inputs || chars.saturating_add(len) > max_chars;
        if i > start && full {
            out.push(start..i);
            start = i;
            chars = 0;
        }
        chars = chars.saturating_add(len);
    }
    if start < inputs.len() {
        out.push(start..inputs.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lens: &[usize]) -> Vec<String> {
        lens.iter().map(|n| "é".repeat(*n)).collect()
    }

    #[test]
    fn by_count_then_by_characters_in_order() {
        assert_eq!(batches(&texts(&[1; 5]), 2, None), [0..2, 2..4, 4..5]);
        assert_eq!(batches(&texts(&[1; 4]), 2, None), [0..2, 2..4]);
        assert_eq!(batches(&texts(&[]), 2, None), Vec::<Range<usize>>::new());
        // Characters, not bytes; an input over the budget goes alone.
        assert_eq!(
            batches(&texts(&[3, 3, 3, 10, 1]), 100, Some(6)),
            [0..2, 2..3, 3..4, 4..5]
        );
        assert_eq!(batches(&texts(&[1; 3]), 0, None), [0..1, 1..2, 2..3]);
    }

    #[test]
    fn every_input_is_in_exactly_one_batch() {
        for max in 1..7 {
            let inputs = texts(&[5, 1, 9, 2, 2, 8, 3, 1, 1, 4]);
            let cut = batches(&inputs, max, Some(9));
            let flat: Vec<usize> = cut.iter().flat_map(Clone::clone).collect();
            assert_eq!(flat, (0..inputs.len()).collect::<Vec<_>>());
            assert!(cut.iter().all(|r| r.len() <= max && !r.is_empty()));
        }
    }
}
