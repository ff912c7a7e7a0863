//! Markdown → sanitized HTML, done once when a post is saved (never per view).
//!
//! pulldown-cmark renders CommonMark (+ tables, strikethrough); bare URLs in text become
//! links; ammonia then keeps only a strict allow-list of tags, attributes and URL schemes,
//! so raw HTML in a post can never run script in a reader's browser.

use std::collections::HashSet;
use std::sync::OnceLock;

use ammonia::Builder;
use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, TextMergeStream};

fn sanitizer() -> &'static Builder<'static> {
    static B: OnceLock<Builder<'static>> = OnceLock::new();
    B.get_or_init(|| {
        let tags: HashSet<&str> = [
            "a",
            "p",
            "br",
            "hr",
            "strong",
            "em",
            "del",
            "code",
            "pre",
            "blockquote",
            "ul",
            "ol",
            "li",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "img",
            "sup",
            "sub",
        ]
        .into_iter()
        .collect();
        let mut b = Builder::default();
        b.tags(tags)
            .clean_content_tags(["script", "style"].into_iter().collect())
            .generic_attributes(HashSet::new())
            .tag_attributes(
                [
                    ("img", ["src", "alt", "title"].into_iter().collect()),
                    ("ol", ["start"].into_iter().collect()),
                    ("a", ["href", "title"].into_iter().collect()),
                ]
                .into_iter()
                .collect(),
            )
            .url_schemes(["http", "https", "mailto"].into_iter().collect())
            .allowed_classes(
                [("a", ["mention"].into_iter().collect())]
                    .into_iter()
                    .collect(),
            )
            .link_rel(Some("nofollow noopener"))
            .strip_comments(true);
        b
    })
}

/// Renders Markdown to HTML that is safe to emit unescaped, with bare URLs linked (no
/// mentions, no plugins): for seed data and tests. Posts render through the `post_content`
/// hook chain instead (see [`crate::hooks::content`]).
pub fn to_html(markdown: &str) -> String {
    to_html_with(markdown, &|_| None)
}

/// Like [`to_html`], turning `@name` into a link to `/u/{username}` wherever `mention`
/// knows the (lowercased) name; unknown names stay text.
pub fn to_html_with(markdown: &str, mention: &dyn Fn(&str) -> Option<String>) -> String {
    finish(autolink_urls(link_mentions(parse(markdown), mention)))
}

/// Parses Markdown (CommonMark + tables + strikethrough) into owned events, adjacent text
/// merged so text filters see whole runs.
pub fn parse(markdown: &str) -> Vec<Event<'static>> {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    TextMergeStream::new(Parser::new_ext(markdown, opts))
        .map(Event::into_static)
        .collect()
}

/// Turns events into HTML and sanitizes it with the allow-list: the last step, whatever the
/// filters did, so stored HTML is always safe to emit unescaped.
pub fn finish(events: Vec<Event<'static>>) -> String {
    let mut html = String::with_capacity(events.len() * 16);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    sanitizer().clean(&html).to_string()
}

/// Rewrites the plain text of a document: `f` gets each run of text outside links, images,
/// code and raw HTML, and returns the events to put in its place (or `None` to keep it).
/// Text filters (mentions, autolinks, plugins' `#tags`) use it so none of them links inside
/// code or inside another link.
pub fn map_text(
    events: Vec<Event<'static>>,
    mut f: impl FnMut(&str) -> Option<Vec<Event<'static>>>,
) -> Vec<Event<'static>> {
    let mut out = Vec::with_capacity(events.len());
    let mut inside = 0usize;
    for ev in events {
        match ev {
            Event::Start(Tag::Link { .. })
            | Event::Start(Tag::CodeBlock(_))
            | Event::Start(Tag::Image { .. })
            | Event::Start(Tag::HtmlBlock) => {
                inside += 1;
                out.push(ev);
            }
            Event::End(TagEnd::Link)
            | Event::End(TagEnd::CodeBlock)
            | Event::End(TagEnd::Image)
            | Event::End(TagEnd::HtmlBlock) => {
                inside = inside.saturating_sub(1);
                out.push(ev);
            }
            Event::Text(text) if inside == 0 => match f(&text) {
                Some(replacement) => out.extend(replacement),
                None => out.push(Event::Text(text)),
            },
            other => out.push(other),
        }
    }
    out
}

/// A link to `url` around `text`, as events.
pub fn link_events(url: String, text: String) -> [Event<'static>; 3] {
    [
        Event::Start(Tag::Link {
            link_type: LinkType::Inline,
            dest_url: CowStr::from(url),
            title: CowStr::from(""),
            id: CowStr::from(""),
        }),
        Event::Text(CowStr::from(text)),
        Event::End(TagEnd::Link),
    ]
}

/// Links bare `http(s)://` URLs in text.
pub fn autolink_urls(events: Vec<Event<'static>>) -> Vec<Event<'static>> {
    let finder = {
        let mut f = linkify::LinkFinder::new();
        f.kinds(&[linkify::LinkKind::Url]);
        f
    };
    map_text(events, |text| {
        let mut out = Vec::new();
        let mut last = 0;
        for link in finder.links(text) {
            let url = link.as_str();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                continue;
            }
            if link.start() > last {
                out.push(Event::Text(CowStr::from(
                    text[last..link.start()].to_string(),
                )));
            }
            out.extend(link_events(url.to_string(), url.to_string()));
            last = link.end();
        }
        if out.is_empty() {
            return None;
        }
        if last < text.len() {
            out.push(Event::Text(CowStr::from(text[last..].to_string())));
        }
        Some(out)
    })
}

/// Turns `@name` (outside URLs and email addresses) into a mention link wherever `mention`
/// knows the lowercased name.
pub fn link_mentions(
    events: Vec<Event<'static>>,
    mention: &dyn Fn(&str) -> Option<String>,
) -> Vec<Event<'static>> {
    map_text(events, |text| {
        let mut out = Vec::new();
        let mut last = 0;
        for f in crate::mentions::parse::scan_outside_urls(text) {
            let Some(username) = mention(&f.name) else {
                continue;
            };
            if f.start > last {
                out.push(Event::Text(CowStr::from(text[last..f.start].to_string())));
            }
            // Both parts are [A-Za-z0-9_@] only, so nothing here needs escaping.
            out.push(Event::InlineHtml(CowStr::from(format!(
                "<a class=\"mention\" href=\"/u/{username}\">{}</a>",
                &text[f.start..f.end]
            ))));
            last = f.end;
        }
        if out.is_empty() {
            return None;
        }
        if last < text.len() {
            out.push(Event::Text(CowStr::from(text[last..].to_string())));
        }
        Some(out)
    })
}

#[cfg(test)]
mod tests {
    use super::{to_html, to_html_with};

    #[test]
    fn renders_markdown() {
        let h = to_html("**bold** and `code`\n\n- a\n- b");
        assert!(h.contains("<strong>bold</strong>"), "{h}");
        assert!(h.contains("<code>code</code>"), "{h}");
        assert!(h.contains("<li>a</li>"), "{h}");
    }

    #[test]
    fn strips_script_and_handlers() {
        let h = to_html("<script>alert(1)</script><img src=x onerror=alert(1)><b onclick=x>hi</b>");
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("alert(1)</script"), "{h}");
        assert!(!h.contains("onerror"), "{h}");
        assert!(!h.contains("onclick"), "{h}");
    }

    #[test]
    fn neutralizes_javascript_links() {
        for md in [
            "[x](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "[x](JaVaScRiPt:alert(1))",
            "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>",
        ] {
            let h = to_html(md);
            assert!(!h.to_lowercase().contains("javascript:"), "{md} → {h}");
            assert!(!h.contains("data:"), "{md} → {h}");
        }
    }

    #[test]
    fn links_get_rel_and_bare_urls_autolink() {
        let h = to_html("see https://example.com/a?b=1 and [doc](https://example.org)");
        assert!(h.contains("href=\"https://example.com/a?b=1\""), "{h}");
        assert!(h.contains("rel=\"nofollow noopener\""), "{h}");
        let code = to_html("`https://example.com` and\n\n    https://example.net");
        assert!(!code.contains("<a"), "{code}");
    }

    #[test]
    fn keeps_emoji_and_escapes_text() {
        let h = to_html("Shipped 🚀 <3 & done");
        assert!(h.contains("🚀"), "{h}");
        assert!(h.contains("&lt;3 &amp; done"), "{h}");
    }

    #[test]
    fn known_mentions_become_links() {
        let known = |n: &str| (n == "ana").then(|| "ana".to_string());
        let h = to_html_with("Hi @Ana and @nobody, mail ana@example.com, `@ana`", &known);
        assert!(
            h.contains("<a class=\"mention\" href=\"/u/ana\" rel=\"nofollow noopener\">@Ana</a>"),
            "{h}"
        );
        assert!(h.contains("@nobody"), "{h}");
        assert_eq!(h.matches("class=\"mention\"").count(), 1, "{h}");
        // A user cannot forge the class on other links.
        let forged = to_html_with(
            "<a class=\"mention evil\" href=\"https://x.org\">x</a>",
            &known,
        );
        assert!(!forged.contains("evil"), "{forged}");
    }
}
