//! The text of the Mastodon status for a post: its title (or, without one, the start of its
//! text), a blank line, and the absolute permalink; never more than [`MAX_CHARS`] characters.

/// Mastodon's default limit for a status. Mastodon counts any URL as 23 characters; this
/// counts the link in full, so the text always fits, whatever the instance does with links.
pub const MAX_CHARS: usize = 500;

const SEPARATOR: &str = "\n\n";

/// The status for a post with this (inferred) title, Markdown body and absolute permalink.
pub fn status_text(title: Option<&str>, body_md: &str, url: &str) -> String {
    let url_chars = url.chars().count();
    if url_chars >= MAX_CHARS {
        // Not a real site URL; still never send more than the limit.
        return url.chars().take(MAX_CHARS).collect();
    }
    let lead = match title.map(plain).filter(|t| !t.is_empty()) {
        Some(t) => t,
        None => plain(body_md),
    };
    let budget = MAX_CHARS
        .saturating_sub(url_chars)
        .saturating_sub(SEPARATOR.chars().count());
    let lead = shorten(&lead, budget);
    if lead.is_empty() {
        url.to_string()
    } else {
        format!("{lead}{SEPARATOR}{url}")
    }
}

/// The words of Markdown text on one line, without emphasis, code and quote marks or heading
/// markers, and with `@` taken off mentions (a team member's name must not become a mention
/// of whoever has that name on the Mastodon instance).
fn plain(md: &str) -> String {
    md.split_whitespace()
        .filter(|w| !w.chars().all(|c| c == '#'))
        .map(undecorate)
        .map(|w| defuse_mention(&w))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `**bold**` → `bold`, `` (`code`), `` → `(code),`: emphasis and code marks off a word,
/// also inside brackets and before punctuation.
fn undecorate(word: &str) -> String {
    let is_mark = |c: char| matches!(c, '*' | '_' | '`' | '>');
    let is_open = |c: char| matches!(c, '(' | '[' | '"' | '\'');
    let is_close = |c: char| {
        matches!(
            c,
            '.' | ',' | ';' | ':' | '!' | '?' | ')' | ']' | '"' | '\''
        )
    };
    let start = word.find(|c: char| !is_open(c)).unwrap_or(word.len());
    let (open, rest) = word.split_at(start);
    let end = rest.trim_end_matches(is_close).len();
    let (middle, close) = rest.split_at(end);
    let middle = middle.trim_matches(is_mark);
    format!("{open}{middle}{close}")
}

/// `@ana` → `ana`, `(@ana,` → `(ana,`; an address like `ana@example.com` stays.
fn defuse_mention(word: &str) -> String {
    let lead = word
        .find(|c: char| !matches!(c, '(' | '[' | '"' | '\''))
        .unwrap_or(word.len());
    let (open, rest) = word.split_at(lead);
    match rest.strip_prefix('@') {
        Some(name) if name.starts_with(|c: char| c.is_alphanumeric() || c == '_') => {
            format!("{open}{name}")
        }
        _ => word.to_string(),
    }
}

/// At most `max` characters: cut at a word boundary where there is one in the second half,
/// with "…" when anything was cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    // Room for the ellipsis.
    let keep = max - 1;
    let cut = text
        .char_indices()
        .nth(keep)
        .map_or(text.len(), |(at, _)| at);
    let head = &text[..cut];
    let next_is_space = text[cut..].starts_with(char::is_whitespace);
    let head = if next_is_space {
        head
    } else {
        match head.rfind(char::is_whitespace) {
            Some(at) if head[..at].chars().count() >= keep / 2 => &head[..at],
            _ => head,
        }
    };
    format!("{}…", head.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://team.example/p/42";

    fn chars(s: &str) -> usize {
        s.chars().count()
    }

    #[test]
    fn a_titled_post_sends_its_title_and_the_link() {
        assert_eq!(
            status_text(
                Some("Release notes"),
                "Release notes\nWe shipped **it**.",
                URL
            ),
            "Release notes\n\nhttps://team.example/p/42"
        );
    }

    #[test]
    fn an_untitled_post_sends_the_start_of_its_text() {
        assert_eq!(
            status_text(
                None,
                "**Shipped** the _new_ login page, @maria can you `check`?\n\n> quoted",
                URL
            ),
            "Shipped the new login page, maria can you check? quoted\n\nhttps://team.example/p/42"
        );
        // A blank title counts as none.
        assert_eq!(
            status_text(Some("  "), "Just this", URL),
            "Just this\n\nhttps://team.example/p/42"
        );
    }

    #[test]
    fn mentions_lose_their_at_but_addresses_and_tags_stay() {
        assert_eq!(
            status_text(None, "(@ana, mail ops@example.com about #release", URL),
            "(ana, mail ops@example.com about #release\n\nhttps://team.example/p/42"
        );
        assert_eq!(
            status_text(None, "(**bold**), `snake_case`! [_x_]", URL),
            "(bold), snake_case! [x]\n\nhttps://team.example/p/42"
        );
        assert_eq!(
            status_text(None, "## Heading\nnot @ alone", URL),
            "Heading not @ alone\n\nhttps://team.example/p/42"
        );
    }

    #[test]
    fn long_text_is_cut_to_500_characters_with_the_link_intact() {
        let body = "word ".repeat(400);
        let s = status_text(None, &body, URL);
        assert!(chars(&s) <= MAX_CHARS, "{} chars", chars(&s));
        assert!(
            chars(&s) > MAX_CHARS - 10,
            "uses the room: {} chars",
            chars(&s)
        );
        assert!(s.ends_with("…\n\nhttps://team.example/p/42"), "{s}");
        assert!(!s.contains("wor…"), "cut at a word boundary");
        // A title made of one enormous word is cut too.
        let title = "x".repeat(800);
        let s = status_text(Some(&title), "", URL);
        assert_eq!(chars(&s), MAX_CHARS);
        assert!(s.ends_with(URL));
    }

    #[test]
    fn counts_characters_not_bytes() {
        let body = "Grüße 🎉 ".repeat(200);
        let s = status_text(None, &body, URL);
        assert!(chars(&s) <= MAX_CHARS);
        assert!(s.len() > MAX_CHARS, "multi-byte text was measured in bytes");
        assert!(s.ends_with(URL));
    }

    #[test]
    fn text_that_fits_exactly_is_not_cut() {
        let room = MAX_CHARS - chars(URL) - 2;
        let exact = "a".repeat(room);
        assert_eq!(status_text(None, &exact, URL), format!("{exact}\n\n{URL}"));
        let over = "a".repeat(room + 1);
        let s = status_text(None, &over, URL);
        assert_eq!(chars(&s), MAX_CHARS);
        assert!(s.contains('…'));
    }

    #[test]
    fn empty_text_sends_the_link_alone_and_a_huge_link_is_capped() {
        assert_eq!(status_text(None, "  ** ", URL), URL);
        let long = format!("https://team.example/{}", "p".repeat(600));
        assert_eq!(chars(&status_text(Some("Title"), "", &long)), MAX_CHARS);
    }
}
