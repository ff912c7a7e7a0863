//! Finding `@username` mentions in a post's Markdown.
//!
//! A mention is `@` + 2–30 of `[A-Za-z0-9_]` (matched case-insensitively), standing on its own:
//! not inside a code span or block, a link, an email address or a URL (the `@` must follow the
//! start of text, whitespace or opening punctuation, and the name must not run on into more
//! word characters or a domain such as `@example.com`).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, TextMergeStream};

/// Longest username.
pub const MAX_NAME: usize = 30;
/// Shortest username.
pub const MIN_NAME: usize = 2;

/// One mention found in a piece of plain text: byte range of `@name` and the lowercase name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Byte offset of the `@`.
    pub start: usize,
    /// Byte offset just past the name.
    pub end: usize,
    /// The name, lowercased.
    pub name: String,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Characters after which an `@` may start a mention (and a plugin's `#tag`, by the same
/// rules): whitespace and opening punctuation.
pub fn opens(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '(' | '['
                | '{'
                | '"'
                | '\''
                | '“'
                | '‘'
                | '«'
                | ','
                | ';'
                | '!'
                | '?'
                | '*'
                | '~'
                | '>'
                | '¡'
                | '¿'
        )
}

/// Mentions in plain text (no Markdown), in order.
pub fn scan(text: &str) -> Vec<Found> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = text[i..].find('@') {
        let at = i + off;
        i = at + 1;
        if let Some(prev) = text[..at].chars().next_back() {
            if !opens(prev) {
                continue;
            }
        }
        let name_len = bytes[at + 1..]
            .iter()
            .take_while(|&&b| is_name_byte(b))
            .count();
        let end = at + 1 + name_len;
        if !(MIN_NAME..=MAX_NAME).contains(&name_len) {
            i = end.max(i);
            continue;
        }
        // The name must end here: not run on into other letters (`@anaé`) or a domain
        // (`@example.com`, `@host-name`).
        let rest = &text[end..];
        let mut next = rest.chars();
        let runs_on = match next.next() {
            Some(c) if c.is_alphanumeric() => true,
            Some('.') | Some('-') => next.next().is_some_and(char::is_alphanumeric),
            Some('@') => true,
            _ => false,
        };
        if !runs_on {
            out.push(Found {
                start: at,
                end,
                name: text[at + 1..end].to_ascii_lowercase(),
            });
        }
        i = end;
    }
    out
}

/// The distinct names mentioned in a post's Markdown, lowercased, in order of first mention.
/// Code spans and blocks, links, raw HTML, emails and URLs are skipped.
pub fn extract(markdown: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut skip = 0usize;
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    for ev in TextMergeStream::new(Parser::new_ext(markdown, opts)) {
        match ev {
            Event::Start(
                Tag::CodeBlock(_) | Tag::Link { .. } | Tag::Image { .. } | Tag::HtmlBlock,
            ) => skip += 1,
            Event::End(TagEnd::CodeBlock | TagEnd::Link | TagEnd::Image | TagEnd::HtmlBlock) => {
                skip = skip.saturating_sub(1)
            }
            Event::Text(t) if skip == 0 => {
                for f in scan_outside_urls(&t) {
                    if !names.contains(&f.name) {
                        names.push(f.name);
                    }
                }
            }
            _ => {}
        }
    }
    names
}

/// [`scan`], ignoring anything inside a bare URL or email address in the text.
pub fn scan_outside_urls(text: &str) -> Vec<Found> {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url, linkify::LinkKind::Email]);
    let spans: Vec<(usize, usize)> = finder.links(text).map(|l| (l.start(), l.end())).collect();
    scan(text)
        .into_iter()
        .filter(|f| !spans.iter().any(|&(s, e)| f.start < e && f.end > s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(md: &str) -> Vec<String> {
        extract(md)
    }

    #[test]
    fn plain_mentions() {
        assert_eq!(names("@ana can you check?"), vec!["ana"]);
        assert_eq!(names("Thanks @Ana and @BEN_2!"), vec!["ana", "ben_2"]);
        assert_eq!(
            names("(@ana) [@ben] \"@cy\" @dee, @eve; @fay? @gus."),
            vec!["ana", "ben", "cy", "dee", "eve", "fay", "gus"]
        );
        assert_eq!(names("@ana's idea"), vec!["ana"]);
        assert_eq!(names("**@ana** and _@ben_"), vec!["ana", "ben"]);
        assert_eq!(names("- @ana\n- @ben"), vec!["ana", "ben"]);
    }

    #[test]
    fn emails_and_urls_are_not_mentions() {
        assert!(names("mail ana@example.com now").is_empty());
        assert!(names("see https://mastodon.social/@ana and http://x.org/?u=@ben").is_empty());
        assert!(names("user@host and a@b.co").is_empty());
        assert!(names("<https://example.com/@ana>").is_empty());
        assert!(names("[profile](https://example.com/@ana) and [@ben](https://x.org)").is_empty());
        assert!(names("@example.com is a domain").is_empty());
        assert!(names("@host-name too").is_empty());
    }

    #[test]
    fn code_is_not_scanned() {
        assert!(names("`@ana` in code").is_empty());
        assert!(names("```\n@ana\n```").is_empty());
        assert!(names("    @ana indented code").is_empty());
        assert_eq!(names("`@ana` but @ben"), vec!["ben"]);
        // Inline HTML is stripped when rendering, so its text reads (and counts) as plain text.
        assert_eq!(names("<span>@ana</span>"), vec!["ana"]);
    }

    #[test]
    fn length_and_characters() {
        assert!(names("@a is too short").is_empty());
        assert_eq!(names(&format!("@{}", "a".repeat(30))), vec!["a".repeat(30)]);
        assert!(names(&format!("@{} too long", "a".repeat(31))).is_empty());
        assert!(names("@@ana").is_empty());
        assert!(names("@ana@ben").is_empty());
        assert!(names("@").is_empty());
        assert!(names("ends with @").is_empty());
        assert!(names("@ ana").is_empty());
    }

    #[test]
    fn unicode_around_names() {
        assert_eq!(names("¡@ana! «@ben» “@cy”"), vec!["ana", "ben", "cy"]);
        assert!(names("café@ana").is_empty(), "glued to a word: an address");
        assert!(names("@anaé").is_empty(), "runs on into a letter");
        assert_eq!(names("👋 @ana 🚀"), vec!["ana"]);
        assert_eq!(names("日本語 @ana です"), vec!["ana"]);
    }

    #[test]
    fn each_name_once_in_order() {
        assert_eq!(names("@ben @ana @ben @ANA"), vec!["ben", "ana"]);
        let many: String = (0..1000).map(|i| format!("@user{i} ")).collect();
        let found = names(&many);
        assert_eq!(found.len(), 1000);
        assert_eq!(found[999], "user999");
        let same = "@ana ".repeat(1000);
        assert_eq!(names(&same), vec!["ana"]);
    }

    #[test]
    fn scan_reports_byte_ranges() {
        let t = "hi @Ana!";
        let f = scan(t);
        assert_eq!(
            f,
            vec![Found {
                start: 3,
                end: 7,
                name: "ana".into()
            }]
        );
        assert_eq!(&t[f[0].start..f[0].end], "@Ana");
    }
}
