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

/// Renders a post's Markdown to HTML that is safe to emit unescaped (no mention links).
pub fn to_html(markdown: &str) -> String {
    to_html_with(markdown, &|_| None)
}

/// Like [`to_html`], turning `@name` into a link to `/u/{username}` wherever `mention`
/// knows the (lowercased) name; unknown names stay text.
pub fn to_html_with(markdown: &str, mention: &dyn Fn(&str) -> Option<String>) -> String {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let events = autolink(
        TextMergeStream::new(Parser::new_ext(markdown, opts)),
        mention,
    );
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    sanitizer().clean(&html).to_string()
}

/// Turns bare URLs and known @mentions in plain text into links, leaving code and existing
/// links alone.
fn autolink<'a>(
    parser: impl Iterator<Item = Event<'a>>,
    mention: &dyn Fn(&str) -> Option<String>,
) -> Vec<Event<'a>> {
    let finder = {
        let mut f = linkify::LinkFinder::new();
        f.kinds(&[linkify::LinkKind::Url]);
        f
    };
    let mut out = Vec::new();
    let mut in_link_or_code = 0usize;
    for ev in parser {
        match ev {
            Event::Start(Tag::Link { .. })
            | Event::Start(Tag::CodeBlock(_))
            | Event::Start(Tag::Image { .. }) => {
                in_link_or_code += 1;
                out.push(ev);
            }
            Event::End(TagEnd::Link)
            | Event::End(TagEnd::CodeBlock)
            | Event::End(TagEnd::Image) => {
                in_link_or_code = in_link_or_code.saturating_sub(1);
                out.push(ev);
            }
            Event::Text(text) if in_link_or_code == 0 => {
                let mut last = 0;
                for link in finder.links(&text) {
                    let url = link.as_str();
                    if !(url.starts_with("http://") || url.starts_with("https://")) {
                        continue;
                    }
                    push_text(&mut out, &text[last..link.start()], mention);
                    out.push(Event::Start(Tag::Link {
                        link_type: LinkType::Autolink,
                        dest_url: CowStr::from(url.to_string()),
                        title: CowStr::from(""),
                        id: CowStr::from(""),
                    }));
                    out.push(Event::Text(CowStr::from(url.to_string())));
                    out.push(Event::End(TagEnd::Link));
                    last = link.end();
                }
                push_text(&mut out, &text[last..], mention);
            }
            other => out.push(other),
        }
    }
    out
}

/// Plain text, with known mentions (outside email addresses) as links.
fn push_text<'a>(out: &mut Vec<Event<'a>>, text: &str, mention: &dyn Fn(&str) -> Option<String>) {
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
    if last < text.len() {
        out.push(Event::Text(CowStr::from(text[last..].to_string())));
    }
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
