//! Numbers that satisfy a schema's numeric keywords: `minimum`/`maximum`, the numeric
//! `exclusiveMinimum`/`exclusiveMaximum` of draft 6 on, the boolean ones of draft 4 and
//! OpenAPI 3.0, and `multipleOf`.

use serde_json::{json, Map, Value};

/// A bound and whether it is exclusive.
type Bound = Option<(f64, bool)>;

/// The tightest lower and upper bounds, from `minimum`/`maximum`, numeric
/// `exclusiveMinimum`/`exclusiveMaximum` (draft 6 on), or the boolean ones of draft 4
/// and OpenAPI 3.0 that make `minimum`/`maximum` exclusive.
fn bounds(map: &Map<String, Value>) -> (Bound, Bound) {
    let number = |k: &str| map.get(k).and_then(Value::as_f64).filter(|n| n.is_finite());
    let flag = |k: &str| map.get(k).and_then(Value::as_bool) == Some(true);
    let mut low = number("minimum").map(|m| (m, flag("exclusiveMinimum")));
    if let Some(e) = number("exclusiveMinimum") {
        if low.is_none_or(|(m, _)| e >= m) {
            low = Some((e, true));
        }
    }
    let mut high = number("maximum").map(|m| (m, flag("exclusiveMaximum")));
    if let Some(e) = number("exclusiveMaximum") {
        if high.is_none_or(|(m, _)| e <= m) {
            high = Some((e, true));
        }
    }
    (low, high)
}

/// The multiple of `multipleOf` nearest above `value`, if it is still at most `high`.
fn multiple_above(map: &Map<String, Value>, value: f64, high: f64) -> f64 {
    match map.get("multipleOf").and_then(Value::as_f64) {
        Some(m) if m > 0.0 && m.is_finite() => {
            let candidate = (value / m).ceil() * m;
            if candidate <= high {
                candidate
            } else {
                value
            }
        }
        _ => value,
    }
}

pub(super) fn integer(map: &Map<String, Value>) -> Value {
    let (low, high) = bounds(map);
    let low = match low {
        Some((l, true)) => l.floor() + 1.0,
        Some((l, false)) => l.ceil(),
        None => f64::NEG_INFINITY,
    };
    let high = match high {
        Some((h, true)) => h.ceil() - 1.0,
        Some((h, false)) => h.floor(),
        None => f64::INFINITY,
    };
    let value = if low.is_finite() {
        low
    } else {
        0.0_f64.min(high)
    };
    let value = multiple_above(map, value, high);
    if value >= i64::MIN as f64 && value <= i64::MAX as f64 {
        json!(value as i64)
    } else {
        json!(0)
    }
}

pub(super) fn number(map: &Map<String, Value>) -> Value {
    let (low, high) = bounds(map);
    let top = high.map_or(f64::INFINITY, |(h, _)| h);
    // A step past an exclusive bound that stays inside the other one.
    let step = |from: f64| {
        if top.is_finite() {
            ((top - from) / 2.0).min(0.5)
        } else {
            0.5
        }
    };
    let value = match (low, high) {
        (Some((l, false)), _) => l,
        (Some((l, true)), _) => l + step(l),
        (None, Some((h, true))) => (h - 1.0).min(0.0),
        (None, Some((h, false))) => h.min(0.0),
        (None, None) => 0.0,
    };
    let value = multiple_above(map, value, top);
    serde_json::Number::from_f64(value).map_or(json!(0), Value::Number)
}
