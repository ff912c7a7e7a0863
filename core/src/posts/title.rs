//! o2's title inference: the first line becomes the title only when the post has more than
//! one line and that line is short, plain prose.

/// Splits a body into (title, the Markdown to render). The first line is a title only if
/// the post has more lines after it, it has at most 8 words, is not a list item, and holds no
/// @mention, #tag, URL or HTML.
pub fn infer(body: &str) -> (Option<String>, &str) {
    let Some((first, rest)) = body.split_once('\n') else {
        return (None, body);
    };
    if rest.trim().is_empty() {
        return (None, body);
    }
    // A Markdown heading marker is decoration, not part of the title.
    let line = first.trim().trim_start_matches('#').trim();
    let raw = first.trim_start();
    let is_list = raw.starts_with("- ")
        || raw.starts_with("* ")
        || raw.starts_with("+ ")
        || raw.starts_with("o ")
        || raw.starts_with("x ")
        || raw.starts_with('>')
        || raw.starts_with("    ")
        || raw.starts_with("```")
        || ordered_item(raw);
    let words = line.split_whitespace().count();
    let has_markup = line.split_whitespace().any(|w| {
        let w = w.trim_start_matches(['(', '[', '"', '\'']);
        (w.starts_with('@') && w.len() > 1)
            || (w.starts_with('#') && w.len() > 1)
            || w.contains("://")
            || w.starts_with("www.")
    }) || line.contains('<');
    if line.is_empty() || words > 8 || is_list || has_markup || first.starts_with("    ") {
        return (None, body);
    }
    (Some(line.to_string()), rest.trim_start_matches('\n'))
}

fn ordered_item(s: &str) -> bool {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && matches!(s.as_bytes().get(digits), Some(b'.') | Some(b')'))
}

/// The first `n` words of the text without Markdown decoration, with "…" when cut.
pub fn excerpt(body: &str, n: usize) -> String {
    let words: Vec<&str> = body
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| matches!(c, '*' | '_' | '`' | '#' | '>')))
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() <= n {
        words.join(" ")
    } else {
        format!("{}…", words[..n].join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_title_from_short_first_line() {
        assert_eq!(
            infer("Release notes\nWe shipped it."),
            (Some("Release notes".into()), "We shipped it.")
        );
        assert_eq!(
            infer("## Weekly update\n\nAll good."),
            (Some("Weekly update".into()), "All good.")
        );
    }

    #[test]
    fn no_title_when_rules_say_so() {
        for body in [
            "Just one line",
            "One line\n   \n",
            "one two three four five six seven eight nine\nmore",
            "- a list item\nmore",
            "1. numbered\nmore",
            "Hey @ana look\nmore",
            "About #release\nmore",
            "See https://example.com\nmore",
            "<b>bold</b>\nmore",
            "    code\nmore",
        ] {
            assert_eq!(infer(body).0, None, "{body:?}");
            assert_eq!(infer(body).1, body);
        }
    }

    #[test]
    fn excerpts() {
        assert_eq!(excerpt("a b c", 8), "a b c");
        assert_eq!(
            excerpt(
                "**Shipped** the new login page today, @maria can you check",
                8
            ),
            "Shipped the new login page today, @maria can…"
        );
    }
}
