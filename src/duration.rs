//! How durations are written in messages: `250 ms`, `1.5 s`, `120 s`.

use std::time::Duration;

/// A wait this long or longer is "longer than anyone will wait": what an absurd,
/// negative or unreadable number in `Retry-After` means, and the most any time limit
/// is taken to be (so that adding one to an instant cannot overflow).
pub(crate) const UNREASONABLE_WAIT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `1.5 s`, `120 s`, `250 ms`; `over 100 years` for what no one will wait for.
pub(crate) fn fmt_duration(d: Duration) -> String {
    if d >= UNREASONABLE_WAIT {
        "over 100 years".to_owned()
    } else if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_readably() {
        assert_eq!(fmt_duration(Duration::from_millis(250)), "250 ms");
        assert_eq!(fmt_duration(Duration::from_secs(120)), "120 s");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(fmt_duration(UNREASONABLE_WAIT), "over 100 years");
    }
}
