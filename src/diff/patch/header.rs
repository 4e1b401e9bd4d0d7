//! Header lines: `@@` hunk ranges, `---`/`+++` paths, C-quoted names, and the two names of a
//! `diff --git` line.

pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The ranges of a hunk header: one `(start, count)` per old side, then the new side. A missing
/// count is 1, as in `@@ -3 +3 @@`.
pub(super) fn hunk_ranges(header: &[u8]) -> Option<Vec<(u32, u32)>> {
    let ats = header.iter().take_while(|&&b| b == b'@').count();
    if ats < 2 {
        return None;
    }
    let text = std::str::from_utf8(&header[ats..]).ok().or_else(|| {
        // Section text after the closing `@@` may be any bytes; the ranges are ASCII.
        let close = find(&header[ats..], &header[..ats])?;
        std::str::from_utf8(&header[ats..ats + close]).ok()
    })?;
    let closing = "@".repeat(ats);
    let mut ranges = Vec::with_capacity(ats);
    let mut new_side = None;
    for token in text.split_ascii_whitespace() {
        if token == closing {
            break;
        }
        let range = |r: &str| -> Option<(u32, u32)> {
            match r.split_once(',') {
                Some((s, c)) => Some((s.parse().ok()?, c.parse().ok()?)),
                None => Some((r.parse().ok()?, 1)),
            }
        };
        if new_side.is_some() {
            return None;
        } else if let Some(old) = token.strip_prefix('-') {
            ranges.push(range(old)?);
        } else if let Some(new) = token.strip_prefix('+') {
            new_side = Some(range(new)?);
        } else {
            return None;
        }
    }
    if ranges.len() != ats - 1 {
        return None;
    }
    ranges.push(new_side?);
    Some(ranges)
}

/// The path of a `---`/`+++` line: unquoted, cut at a tab (GNU diff puts a timestamp there; git
/// puts a tab after names with spaces), `None` for `/dev/null`.
pub(super) fn header_path(rest: &[u8]) -> Option<Vec<u8>> {
    let path = if rest.starts_with(b"\"") {
        match unquote(rest) {
            Some((path, _)) => path,
            None => rest.to_vec(),
        }
    } else {
        let end = rest.iter().position(|&b| b == b'\t').unwrap_or(rest.len());
        rest[..end].to_vec()
    };
    (path != b"/dev/null").then_some(path)
}

/// A path as git writes it in `rename from` and friends: C-quoted when it has special bytes.
pub(super) fn unquote_path(rest: &[u8]) -> Vec<u8> {
    if rest.starts_with(b"\"") {
        if let Some((path, _)) = unquote(rest) {
            return path;
        }
    }
    rest.to_vec()
}

/// Decodes a C-quoted string starting at `s[0] == '"'`: returns the bytes and how many input
/// bytes it took, or `None` when it does not end.
pub(super) fn unquote(s: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b'"' => return Some((out, i + 1)),
            b'\\' => {
                let c = *s.get(i + 1)?;
                i += 2;
                match c {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'a' => out.push(0x07),
                    b'b' => out.push(0x08),
                    b'f' => out.push(0x0c),
                    b'v' => out.push(0x0b),
                    b'0'..=b'7' => {
                        let mut value = u32::from(c - b'0');
                        let mut taken = 1;
                        while taken < 3 && matches!(s.get(i), Some(b'0'..=b'7')) {
                            value = value * 8 + u32::from(s[i] - b'0');
                            i += 1;
                            taken += 1;
                        }
                        out.push(value as u8);
                    }
                    other => out.push(other),
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

/// The two names of a `diff --git` line, each quoted or not. Unquoted names may hold spaces, so
/// the split is where both halves name the same file (`a/x y b/x y`), as git itself guesses.
pub(super) fn split_git_header(rest: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    if rest.starts_with(b"\"") {
        let (old, used) = unquote(rest)?;
        let tail = rest[used..].strip_prefix(b" ").unwrap_or(&rest[used..]);
        return Some((old, unquote_path(tail)));
    }
    if rest.ends_with(b"\"") {
        for at in (1..rest.len()).rev() {
            if rest[at] == b'"' && rest[at - 1] == b' ' {
                if let Some((new, used)) = unquote(&rest[at..]) {
                    if at + used == rest.len() {
                        return Some((rest[..at - 1].to_vec(), new));
                    }
                }
            }
        }
    }
    let after_slash = |s: &'_ [u8]| -> Vec<u8> {
        match s.iter().position(|&b| b == b'/') {
            Some(i) => s[i + 1..].to_vec(),
            None => s.to_vec(),
        }
    };
    let spaces: Vec<usize> = (0..rest.len()).filter(|&i| rest[i] == b' ').collect();
    let split = spaces
        .iter()
        .copied()
        .find(|&i| after_slash(&rest[..i]) == after_slash(&rest[i + 1..]))
        .or_else(|| find(rest, b" b/"))
        .or_else(|| spaces.first().copied())?;
    Some((rest[..split].to_vec(), rest[split + 1..].to_vec()))
}
