//! Durations as people write them (`--timeout 10m`, `timeout = "1h30m"`):
//! numbers with `ms`, `s`, `m`, `h` or `d`, one after another; a bare
//! number is seconds.

/// Milliseconds in `text`, or why it is not a duration.
pub fn parse_ms(text: &str) -> Result<u64, String> {
    let bad = || format!("'{text}' is not a duration (like 90s, 10m, 1h30m, 500ms)");
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return ms_of(secs, 1000.0).filter(|ms| *ms > 0).ok_or_else(bad);
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit.trim() {
            "ms" => 1.0,
            "s" | "sec" => 1000.0,
            "m" | "min" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            _ => return Err(bad()),
        };
        let number: f64 = number.parse().map_err(|_| bad())?;
        total = total.checked_add(ms_of(number, scale).ok_or_else(bad)?).ok_or_else(bad)?;
        rest = tail.trim_start();
    }
    if total == 0 {
        return Err(format!("'{text}': a duration must be more than 0"));
    }
    Ok(total)
}

/// `ms` as `parse_ms` reads it back: `1h30m`, `10m`, `1m30s`, `1.5s`, `250ms`.
pub fn show(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if ms < 60_000 && !ms.is_multiple_of(1000) {
        return format!("{}s", ms as f64 / 1000.0);
    }
    let secs = ms / 1000;
    let parts = [(secs / 86_400, "d"), (secs / 3600 % 24, "h"), (secs / 60 % 60, "m"), (secs % 60, "s")];
    parts.iter().filter(|(n, _)| *n > 0).map(|(n, unit)| format!("{n}{unit}")).collect()
}

fn ms_of(number: f64, scale: f64) -> Option<u64> {
    let ms = (number * scale).round();
    (ms.is_finite() && ms >= 0.0 && ms < u64::MAX as f64 / 2.0).then_some(ms as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_add_up_and_nonsense_is_refused() {
        assert_eq!(parse_ms("10m"), Ok(600_000));
        assert_eq!(parse_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_ms("250ms"), Ok(250));
        assert_eq!(parse_ms("1.5s"), Ok(1500));
        assert_eq!(parse_ms("90"), Ok(90_000), "seconds");
        assert_eq!(parse_ms(" 2h 5s "), Ok(7_205_000));
        for ms in [250, 1500, 90_000, 600_000, 5_400_000, 90_061_000] {
            assert_eq!(parse_ms(&show(ms)), Ok(ms), "{}", show(ms));
        }
        assert_eq!(show(5_400_000), "1h30m");
        for bad in ["", "ten", "5 fortnights", "-3s", "0", "m", "1e400"] {
            assert!(parse_ms(bad).is_err(), "{bad}");
        }
    }
}
