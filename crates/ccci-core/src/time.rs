//! RFC 3339 timestamps from Unix seconds, so results stay plain data without a clock crate.

/// Formats Unix seconds (UTC) as `YYYY-MM-DDTHH:MM:SSZ`.
///
/// ```
/// assert_eq!(ccci_core::time::rfc3339(0), "1970-01-01T00:00:00Z");
/// assert_eq!(ccci_core::time::rfc3339(1_795_305_600), "2026-11-22T00:00:00Z");
/// ```
pub fn rfc3339(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Reads `YYYY-MM-DDTHH:MM:SS[.frac]` with `Z` (UTC, as [`rfc3339`] and the Docker Engine
/// write it) or an offset `±HH:MM` (as Gitea writes its server's local time) as whole Unix
/// seconds; `None` for anything else.
///
/// ```
/// assert_eq!(ccci_core::time::parse_rfc3339("2026-11-22T00:00:00Z"), Some(1_795_305_600));
/// assert_eq!(ccci_core::time::parse_rfc3339("2026-11-22T00:00:01.5Z"), Some(1_795_305_601));
/// assert_eq!(ccci_core::time::parse_rfc3339("2026-11-22T01:00:00+01:00"), Some(1_795_305_600));
/// assert_eq!(ccci_core::time::parse_rfc3339("2026-11-21T23:30:00-00:30"), Some(1_795_305_600));
/// assert_eq!(ccci_core::time::parse_rfc3339("yesterday"), None);
/// ```
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let (local, offset) = match s.strip_suffix('Z') {
        Some(utc) => (utc, 0i64),
        None => {
            let at = s.len().checked_sub(6)?;
            let (local, off) = s.split_at(at);
            let sign = match off.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = off[1..].split_once(':')?;
            let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
            if h > 23 || m > 59 {
                return None;
            }
            (local, sign * (h * 3600 + m * 60))
        }
    };
    let secs = parse_local(local)?;
    u64::try_from(i64::try_from(secs).ok()? - offset).ok()
}

/// `YYYY-MM-DDTHH:MM:SS[.frac]` as if it were UTC, in whole Unix seconds.
fn parse_local(s: &str) -> Option<u64> {
    let (date, time) = s.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let hms = time.split_once('.').map_or(time, |(hms, _)| hms);
    let mut t = hms.splitn(3, ':').map(|x| x.parse::<u64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let days = days_from_civil(y, m as u32, day as u32);
    u64::try_from(days * 86_400)
        .ok()?
        .checked_add(hh * 3600 + mm * 60 + ss)
}

/// Howard Hinnant's civil-to-days algorithm, [`civil_from_days`]' inverse.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whole seconds since the Unix epoch at `t` (0 for a time before it).
pub fn unix_secs(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    #[test]
    fn leap_days_and_year_ends() {
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_704_067_199), "2023-12-31T23:59:59Z");
    }

    #[test]
    fn parsing_inverts_formatting() {
        for secs in [0, 951_782_400, 1_704_067_199, 1_795_305_600, 4_102_444_800] {
            assert_eq!(super::parse_rfc3339(&super::rfc3339(secs)), Some(secs));
        }
    }
}
