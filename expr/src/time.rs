//! RFC 3339 timestamps and Go duration strings.
//!
//! Tiny Systems overloads `+` and `-` so that `'2024-01-01T00:00:00Z' + '1h30m'`
//! moves a timestamp, and offers `now()` and `RFC3339()`. Those follow Go's
//! `time` package: `time.Parse(time.RFC3339, ..)`, `time.ParseDuration`,
//! `Time.Format(time.RFC3339)` (whole seconds, `Z` for UTC, otherwise the
//! original offset) and `Duration.String()`. The calendar arithmetic is done
//! here directly (proleptic Gregorian, days-from-civil), so no date crate is
//! needed.

use std::time::{SystemTime, UNIX_EPOCH};

const NANOS_PER_SEC: i128 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// A point in time with the UTC offset it was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timestamp {
    /// Nanoseconds since the Unix epoch (UTC).
    nanos: i128,
    /// Offset from UTC in seconds, used when formatting.
    offset: i32,
}

impl Timestamp {
    /// A UTC timestamp from whole Unix seconds.
    pub(crate) fn from_unix(secs: i64) -> Timestamp {
        Timestamp {
            nanos: i128::from(secs) * NANOS_PER_SEC,
            offset: 0,
        }
    }

    /// The current time (UTC).
    pub(crate) fn now() -> Timestamp {
        let nanos = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        };
        Timestamp { nanos, offset: 0 }
    }

    /// Whole Unix seconds (rounded towards negative infinity).
    pub(crate) fn unix_seconds(&self) -> i64 {
        let secs = self.nanos.div_euclid(NANOS_PER_SEC);
        i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX })
    }

    /// Adds a duration in nanoseconds; `None` when the result leaves the
    /// supported range (years 0000..=9999 after applying the offset).
    pub(crate) fn add(&self, nanos: i64) -> Option<Timestamp> {
        let t = Timestamp {
            nanos: self.nanos.checked_add(i128::from(nanos))?,
            offset: self.offset,
        };
        t.in_range().then_some(t)
    }

    /// `self - other` as a Go duration (saturating like Go's `Time.Sub`).
    pub(crate) fn sub(&self, other: &Timestamp) -> i64 {
        let d = self.nanos.saturating_sub(other.nanos);
        i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
    }

    /// True if the local date is within years 0..=9999.
    fn in_range(&self) -> bool {
        let (y, ..) = civil(self.local_seconds().div_euclid(SECS_PER_DAY));
        (0..=9999).contains(&y)
    }

    /// Seconds since the epoch in the timestamp's own offset (floored).
    fn local_seconds(&self) -> i64 {
        let secs = self.nanos.div_euclid(NANOS_PER_SEC) + i128::from(self.offset);
        i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX })
    }

    /// Formats like Go's `Format(time.RFC3339)`: `2006-01-02T15:04:05Z07:00`.
    pub(crate) fn format(&self) -> Option<String> {
        if !self.in_range() {
            return None;
        }
        let local = self.local_seconds();
        let days = local.div_euclid(SECS_PER_DAY);
        let rem = local.rem_euclid(SECS_PER_DAY);
        let (y, m, d) = civil(days);
        let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
        let zone = if self.offset == 0 {
            "Z".to_string()
        } else {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let abs = self.offset.unsigned_abs();
            format!("{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60)
        };
        Some(format!(
            "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}{zone}"
        ))
    }
}

/// Parses an RFC 3339 timestamp as Go's `time.Parse(time.RFC3339, s)` does:
/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
pub(crate) fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(
            part.iter()
                .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')),
        )
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut pos = 19;
    let mut frac_nanos: i128 = 0;
    if matches!(b.get(pos), Some(b'.' | b',')) {
        pos += 1;
        let start = pos;
        let mut scale: i128 = 100_000_000;
        while let Some(d) = b.get(pos).filter(|d| d.is_ascii_digit()) {
            frac_nanos += i128::from(d - b'0') * scale;
            scale /= 10;
            pos += 1;
        }
        if pos == start {
            return None;
        }
    }
    let offset = match b.get(pos) {
        Some(b'Z') if pos + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if pos + 6 == b.len() && sep(pos + 3, b':') => {
            let (oh, om) = (num(pos + 1, 2)?, num(pos + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            if *sign == b'-' { -off } else { off }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let local = days * SECS_PER_DAY + hour * 3600 + minute * 60 + second;
    let utc = local - offset;
    Some(Timestamp {
        nanos: i128::from(utc) * NANOS_PER_SEC + frac_nanos,
        offset: i32::try_from(offset).ok()?,
    })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian date for days since 1970-01-01.
/// Inputs far outside the supported year range saturate instead of overflowing.
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days.clamp(-1_000_000_000_000, 1_000_000_000_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Nanoseconds per duration unit, as accepted by Go's `time.ParseDuration`.
fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Parses a Go duration string (`300ms`, `-1.5h`, `2h45m`, `0`) into
/// nanoseconds, with Go's rules: a sign, then one or more decimal numbers each
/// followed by a unit; `None` on syntax errors or overflow.
pub(crate) fn parse_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    const LIMIT: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let b = rest.as_bytes();
        if !(b.first() == Some(&b'.') || b.first().is_some_and(u8::is_ascii_digit)) {
            return None;
        }
        // Integer part.
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut value: u64 = 0;
        for d in b.get(..int_len)? {
            value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            if value > LIMIT {
                return None;
            }
        }
        rest = rest.get(int_len..)?;
        // Fraction part.
        let mut frac: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut frac_len = 0;
        if rest.starts_with('.') {
            rest = rest.get(1..)?;
            let fb = rest.as_bytes();
            frac_len = fb.iter().take_while(|c| c.is_ascii_digit()).count();
            let mut overflow = false;
            for d in fb.get(..frac_len)? {
                if overflow {
                    continue;
                }
                match frac
                    .checked_mul(10)
                    .and_then(|f| f.checked_add(u64::from(d - b'0')))
                {
                    Some(f) if f <= LIMIT => {
                        frac = f;
                        scale *= 10.0;
                    }
                    _ => overflow = true,
                }
            }
            rest = rest.get(frac_len..)?;
        }
        if int_len == 0 && frac_len == 0 {
            return None;
        }
        // Unit.
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(i, _)| i);
        if unit_len == 0 {
            return None;
        }
        let unit = unit_nanos(rest.get(..unit_len)?)?;
        rest = rest.get(unit_len..)?;
        if value > LIMIT / unit {
            return None;
        }
        let mut v = value * unit;
        if frac > 0 {
            let extra = (frac as f64 * (unit as f64 / scale)) as u64;
            v = v.checked_add(extra)?;
            if v > LIMIT {
                return None;
            }
        }
        total = total.checked_add(v)?;
        if total > LIMIT {
            return None;
        }
    }
    if neg {
        // -(1<<63) is representable.
        0i64.checked_sub_unsigned(total)
    } else {
        i64::try_from(total).ok()
    }
}

/// Formats nanoseconds like Go's `Duration.String()`: `1h30m0s`, `1.5s`,
/// `300ms`, `0s`.
pub(crate) fn format_duration(nanos: i64) -> String {
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        // Sub-second: use the largest fitting small unit.
        let (unit, div) = match u {
            0 => return "0s".into(),
            1..=999 => ("ns", 1),
            1_000..=999_999 => ("\u{b5}s", 1_000),
            _ => ("ms", 1_000_000),
        };
        out.push_str(&fixed(u, div));
        out.push_str(unit);
    } else {
        let secs = u / 1_000_000_000;
        let frac = u % 1_000_000_000;
        let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&fixed(s * 1_000_000_000 + frac, 1_000_000_000));
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// `value / div` as a decimal without trailing zeros (`1500, 1000` → `1.5`).
fn fixed(value: u64, div: u64) -> String {
    let whole = value / div;
    let frac = value % div;
    if frac == 0 {
        return whole.to_string();
    }
    let width = div.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("300ms"), Some(300_000_000));
        assert_eq!(parse_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_duration("2h45m"), Some(9_900_000_000_000));
        assert_eq!(parse_duration("-1m"), Some(-60_000_000_000));
        assert_eq!(parse_duration("1\u{b5}s"), Some(1_000));
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration(".5s"), Some(500_000_000));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(parse_duration("9999999999999h"), None);
    }

    #[test]
    fn durations_format_like_go() {
        assert_eq!(format_duration(5_400_000_000_000), "1h30m0s");
        assert_eq!(format_duration(1_500_000_000), "1.5s");
        assert_eq!(format_duration(300_000_000), "300ms");
        assert_eq!(format_duration(1_500), "1.5\u{b5}s");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(-61_000_000_000), "-1m1s");
        assert_eq!(format_duration(i64::MIN), "-2562047h47m16.854775808s");
    }

    #[test]
    fn timestamps_round_trip() {
        let t = parse_timestamp("2024-02-29T23:59:59.999Z").unwrap();
        assert_eq!(t.format().unwrap(), "2024-02-29T23:59:59Z");
        let t = parse_timestamp("2024-01-01T00:00:00+02:00").unwrap();
        assert_eq!(t.unix_seconds(), 1_704_060_000);
        assert_eq!(t.format().unwrap(), "2024-01-01T00:00:00+02:00");
        assert!(parse_timestamp("2023-02-29T00:00:00Z").is_none());
        assert!(parse_timestamp("2024-01-01 00:00:00Z").is_none());
        assert_eq!(
            Timestamp::from_unix(0).format().unwrap(),
            "1970-01-01T00:00:00Z"
        );
    }
}
