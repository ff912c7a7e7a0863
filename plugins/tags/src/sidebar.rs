//! The sidebar's "Tags" section: rendered on `tick` from the database, served from memory
//! (filters never query the database).

use std::sync::{Arc, RwLock};

use crate::parse::tag_path;
use crate::store::TagCount;

/// How many of the newest tag rows count as "recent".
pub const RECENT_ROWS: u32 = 500;
/// How many tags the sidebar lists.
pub const SHOWN: u32 = 15;

/// The section's HTML as last rendered (empty: no tags, show nothing). Shared by the `tick`
/// action that refreshes it and the `sidebar` filter that reads it.
#[derive(Clone, Default)]
pub struct Cache(Arc<RwLock<Arc<str>>>);

impl Cache {
    /// The current HTML.
    pub fn get(&self) -> Arc<str> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the HTML (if it changed).
    pub fn set(&self, html: String) {
        if *self.get() == *html {
            return;
        }
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = html.into();
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The section for these tags (empty when there are none).
pub fn render(tags: &[TagCount]) -> String {
    if tags.is_empty() {
        return String::new();
    }
    let mut html = String::from(
        "<section class=\"sidebar-section sidebar-tags\" aria-labelledby=\"sidebar-tags-title\">\
         <h2 class=\"sidebar-title\" id=\"sidebar-tags-title\">Tags</h2><ul class=\"tag-cloud\">",
    );
    for t in tags {
        let posts = if t.uses == 1 { "post" } else { "posts" };
        html.push_str(&format!(
            "<li><a class=\"tag-chip\" href=\"{href}\" title=\"{uses} recent {posts}\">#{name}\
             <span class=\"tag-count\" aria-hidden=\"true\">{uses}</span></a></li>",
            href = escape(&tag_path(&t.tag)),
            name = escape(&t.tag),
            uses = t.uses,
        ));
    }
    html.push_str("</ul></section>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_without_tags() {
        assert_eq!(render(&[]), "");
    }

    #[test]
    fn lists_tags_with_links_and_counts() {
        let html = render(&[
            TagCount {
                tag: "release".into(),
                uses: 3,
            },
            TagCount {
                tag: "café".into(),
                uses: 1,
            },
        ]);
        assert!(html.contains("<h2 class=\"sidebar-title\""), "{html}");
        assert!(
            html.contains("href=\"/t/release\" title=\"3 recent posts\">#release<"),
            "{html}"
        );
        assert!(
            html.contains("href=\"/t/caf%C3%A9\" title=\"1 recent post\">#café<"),
            "{html}"
        );
        assert!(
            html.find("#release").unwrap() < html.find("#café").unwrap(),
            "order kept"
        );
    }

    #[test]
    fn escapes_what_it_prints() {
        let html = render(&[TagCount {
            tag: "<script>\"x\"&'".into(),
            uses: 1,
        }]);
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("#&lt;script&gt;&quot;x&quot;&amp;&#39;"),
            "{html}"
        );
    }

    #[test]
    fn cache_swaps_html() {
        let c = Cache::default();
        assert_eq!(&*c.get(), "");
        c.set("<p>a</p>".into());
        let before = c.get();
        c.set("<p>a</p>".into());
        assert!(
            Arc::ptr_eq(&before, &c.get()),
            "unchanged HTML is not replaced"
        );
        c.set(String::new());
        assert_eq!(&*c.get(), "");
    }
}
