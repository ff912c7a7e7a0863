//! Finding `#tags` in a post's text (o2's rules).
//!
//! - A tag is `#` and a run of letters, digits (any script), `_`, `-` and `.`, starting with a
//!   letter, digit or `_`. A trailing `.` ends the sentence, not the tag (`#release.` is
//!   `release`).
//! - Issue numbers are not tags: a tag needs at least one letter (`#12`, `#1.2`, `#12-13` are
//!   not tags; `#v2` and `#1st` are).
//! - The `#` must stand at the start of the text or after whitespace or opening punctuation
//!   (`(`, `[`, `"`, `,`, …): never glued to a word, `&` or `/` (`a#b`, `&#39;`, `page/#top`).
//! - Nothing inside code spans or blocks, links, images, raw HTML, bare URLs (`…/page#top`)
//!   or email addresses counts.
//! - Tags compare lowercased (Unicode lowercasing); a tag longer than
//!   [`MAX_TAG_CHARS`] characters is not a tag.

use posthaste::hooks::content::{CowStr, Event};

use posthaste::hooks::content::{link_events, map_text};
use posthaste::mentions::parse::opens;
use posthaste::render::markdown;
use unicode_xid::UnicodeXID;

/// The longest tag, in characters (lowercased).
pub const MAX_TAG_CHARS: usize = 64;

/// One tag found in a piece of plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Byte offset of the `#`.
    pub start: usize,
    /// Byte offset just past the tag (a trailing `.` left out).
    pub end: usize,
    /// The tag, lowercased, without `#`.
    pub tag: String,
}

/// Characters a tag is made of. Combining marks (`XID_Continue`) count, so decomposed accents
/// and Indic vowel signs stay inside the tag.
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.') || c.is_xid_continue()
}

/// Characters a tag may start with.
fn starts_tag(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The lowercased tag if `raw` (without `#`) is a whole valid tag, else `None`. Used for the
/// text after a `#` and for the `/t/{tag}` path.
pub fn normalize(raw: &str) -> Option<String> {
    let first = raw.chars().next()?;
    if !starts_tag(first)
        || raw.ends_with('.')
        || !raw.chars().all(is_tag_char)
        || !raw.chars().any(char::is_alphabetic)
    {
        return None;
    }
    let tag = raw.to_lowercase();
    (tag.chars().count() <= MAX_TAG_CHARS).then_some(tag)
}

/// Tags in plain text (no Markdown), in order.
pub fn scan(text: &str) -> Vec<Found> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = text[i..].find('#') {
        let at = i + off;
        i = at + 1;
        if text[..at]
            .chars()
            .next_back()
            .is_some_and(|prev| !opens(prev))
        {
            continue;
        }
        let rest = &text[at + 1..];
        let run = rest
            .char_indices()
            .find(|&(_, c)| !is_tag_char(c))
            .map_or(rest.len(), |(k, _)| k);
        // A run holds no `#`, so the next candidate starts after it either way.
        i = at + 1 + run;
        let raw = rest[..run].trim_end_matches('.');
        if let Some(tag) = normalize(raw) {
            out.push(Found {
                start: at,
                end: at + 1 + raw.len(),
                tag,
            });
        }
    }
    out
}

/// [`scan`], ignoring anything inside a bare URL or email address in the text.
pub fn scan_outside_urls(text: &str) -> Vec<Found> {
    let found = scan(text);
    if found.is_empty() {
        return found;
    }
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url, linkify::LinkKind::Email]);
    let spans: Vec<(usize, usize)> = finder.links(text).map(|l| (l.start(), l.end())).collect();
    found
        .into_iter()
        .filter(|f| !spans.iter().any(|&(s, e)| f.start < e && f.end > s))
        .collect()
}

/// The distinct tags of a post's Markdown, lowercased, in order of first use. Skips what
/// rendering skips (code, links, images, raw HTML blocks, URLs).
pub fn extract(markdown: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    map_text(markdown::parse(markdown), |text| {
        for f in scan_outside_urls(text) {
            if !tags.contains(&f.tag) {
                tags.push(f.tag);
            }
        }
        None
    });
    tags
}

/// The path of a tag's page, `/t/{tag}` (non-ASCII letters percent-encoded).
pub fn tag_path(tag: &str) -> String {
    let mut out = String::with_capacity(3 + tag.len());
    out.push_str("/t/");
    for b in tag.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Turns every tag in the document's text into a link to its page, the text kept as written
/// (`#Release` → `<a href="/t/release">#Release</a>`).
pub fn link_tags(events: Vec<Event<'static>>) -> Vec<Event<'static>> {
    map_text(events, |text| {
        let found = scan_outside_urls(text);
        if found.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(found.len() * 4 + 1);
        let mut last = 0;
        for f in found {
            if f.start > last {
                out.push(Event::Text(CowStr::from(text[last..f.start].to_string())));
            }
            out.extend(link_events(
                tag_path(&f.tag),
                text[f.start..f.end].to_string(),
            ));
            last = f.end;
        }
        if last < text.len() {
            out.push(Event::Text(CowStr::from(text[last..].to_string())));
        }
        Some(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(md: &str) -> Vec<String> {
        extract(md)
    }

    fn html(md: &str) -> String {
        markdown::finish(link_tags(markdown::parse(md)))
    }

    #[test]
    fn plain_tags() {
        assert_eq!(tags("#release today"), vec!["release"]);
        assert_eq!(
            tags("Shipped #Release and #ops-team"),
            vec!["release", "ops-team"]
        );
        assert_eq!(
            tags("#snake_case #v2 #1st #node.js"),
            vec!["snake_case", "v2", "1st", "node.js"]
        );
        assert_eq!(tags("#_private"), vec!["_private"]);
        assert_eq!(tags("- #a1\n- #b2"), vec!["a1", "b2"]);
        assert_eq!(tags("**#bold** and _#em_"), vec!["bold", "em"]);
        assert_eq!(tags("line one\n#second line"), vec!["second"]);
    }

    #[test]
    fn punctuation_around_tags() {
        assert_eq!(
            tags("(#a) [#b] \"#c\" #d, #e; #f? #g! '#h' #i: «#j» “#k”"),
            vec!["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]
        );
        assert_eq!(tags("ends with #release."), vec!["release"]);
        assert_eq!(tags("ends with #release..."), vec!["release"]);
        assert_eq!(tags("#v1.2.3 is out"), vec!["v1.2.3"]);
        assert_eq!(tags("#trailing- #under_"), vec!["trailing-", "under_"]);
        assert_eq!(tags("#release's notes"), vec!["release"]);
        assert_eq!(tags("#a/b"), vec!["a"]);
        assert_eq!(tags("#a+b"), vec!["a"]);
    }

    #[test]
    fn issue_numbers_are_not_tags() {
        assert!(tags("fixes #1 and #12, see #345.").is_empty());
        assert!(tags("#1.2 #12-13 #2024").is_empty());
        assert!(tags("#١٢").is_empty(), "digits of any script");
        assert_eq!(tags("#12 #12a"), vec!["12a"]);
    }

    #[test]
    fn glued_hashes_are_not_tags() {
        assert!(tags("a#b").is_empty());
        assert!(tags("C#").is_empty());
        assert!(tags("issue#12 and x#tag").is_empty());
        assert!(tags("&amp;#39; and &#x26;#tag").is_empty(), "after an &");
        assert!(tags("page/#top").is_empty());
        assert!(tags("##double").is_empty());
        assert_eq!(tags("#foo#bar"), vec!["foo"]);
        assert!(tags("#").is_empty());
        assert!(tags("# heading").is_empty());
        assert!(tags("# ").is_empty());
        assert!(
            tags("#-dash #.dot #...").is_empty(),
            "must start with a letter, digit or _"
        );
        assert!(tags("#🚀").is_empty());
    }

    #[test]
    fn code_links_and_urls_are_skipped() {
        assert!(tags("`#code` span").is_empty());
        assert!(tags("```\n#fenced\n```").is_empty());
        assert!(tags("    #indented code").is_empty());
        assert!(tags("[#linked](https://example.com)").is_empty());
        assert!(tags("![#alt](https://example.com/a.png)").is_empty());
        assert!(tags("<div>\n#html block\n</div>").is_empty());
        assert!(tags("see https://example.com/page#section and http://x.org/#top").is_empty());
        assert!(tags("<https://example.com/#auto>").is_empty());
        assert!(tags("mail #me@example.com").is_empty(), "an email address");
        assert_eq!(tags("`#code` but #real"), vec!["real"]);
        assert_eq!(tags("https://example.com/#frag #after"), vec!["after"]);
    }

    #[test]
    fn unicode_and_case() {
        assert_eq!(
            tags("#Café #ÜBER #日本語 #Ελλάδα"),
            vec!["café", "über", "日本語", "ελλάδα"]
        );
        assert_eq!(
            tags("#cafe\u{301}"),
            vec!["cafe\u{301}"],
            "combining accent stays in"
        );
        assert_eq!(tags("#हिन्दी"), vec!["हिन्दी"]);
        assert_eq!(tags("#Release #release #RELEASE"), vec!["release"]);
        assert_eq!(tags("👋 #hi 🚀"), vec!["hi"]);
    }

    #[test]
    fn length_limit() {
        let ok = "a".repeat(MAX_TAG_CHARS);
        assert_eq!(tags(&format!("#{ok}")), vec![ok.clone()]);
        assert!(
            tags(&format!("#{ok}b")).is_empty(),
            "too long: not a tag at all"
        );
        let wide = "é".repeat(MAX_TAG_CHARS);
        assert_eq!(
            tags(&format!("#{wide}")),
            vec![wide],
            "characters, not bytes"
        );
    }

    #[test]
    fn normalize_checks_a_whole_tag() {
        assert_eq!(normalize("Release"), Some("release".into()));
        assert_eq!(normalize("node.js"), Some("node.js".into()));
        for bad in [
            "", "12", "release.", "a b", "a/b", "-a", ".a", "a#b", "<b>", "a%20b",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }

    #[test]
    fn scan_reports_byte_ranges() {
        let t = "é #Tag. rest";
        let f = scan(t);
        assert_eq!(f.len(), 1);
        assert_eq!(&t[f[0].start..f[0].end], "#Tag");
        assert_eq!(f[0].tag, "tag");
    }

    #[test]
    fn paths_are_encoded() {
        assert_eq!(tag_path("release"), "/t/release");
        assert_eq!(tag_path("node.js"), "/t/node.js");
        assert_eq!(tag_path("café"), "/t/caf%C3%A9");
    }

    #[test]
    fn links_keep_the_text_as_written() {
        let h = html("Shipped #Release. See `#code` and https://x.org/#frag, fixes #12");
        assert!(
            h.contains("<a href=\"/t/release\" rel=\"nofollow noopener\">#Release</a>."),
            "{h}"
        );
        assert_eq!(h.matches("<a ").count(), 1, "{h}");
        assert!(h.contains("<code>#code</code>"), "{h}");
        assert!(h.contains("fixes #12"), "{h}");
        let h = html("#Café");
        assert!(h.contains("href=\"/t/caf%C3%A9\""), "{h}");
        assert!(h.contains(">#Café</a>"), "{h}");
    }
}
