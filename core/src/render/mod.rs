//! Presentation plumbing: the handlebars registry (strict mode, embedded templates with an
//! optional theme folder on top), embedded assets, Markdown and time formatting.

pub mod markdown;
pub mod time;

use std::borrow::Cow;
use std::hash::{BuildHasher, Hash};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use handlebars::{DirectorySourceOptions, Handlebars};
use rust_embed::RustEmbed;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Templates compiled into the binary (read from disk in debug builds).
#[derive(RustEmbed)]
#[folder = "templates/"]
struct EmbeddedTemplates;

/// Static assets compiled into the binary.
#[derive(RustEmbed)]
#[folder = "assets/"]
struct EmbeddedAssets;

/// Marks where an item's nested content (a post's replies, a reply's children) goes in its
/// cached HTML. An HTML comment: sanitized user content never contains comments.
pub const NESTED_MARKER: &str = "<!--posthaste:nested-->";

/// Cached fragments kept at most (a front page shows ~20 posts and up to ~100 replies).
const FRAGMENT_CACHE_ITEMS: usize = 4096;

/// The template registry plus asset lookup, built once at start.
pub struct Renderer {
    hb: Handlebars<'static>,
    /// The same templates without HTML escaping, for plain-text mail parts.
    text: Handlebars<'static>,
    fragments: quick_cache::sync::Cache<(&'static str, i32, u64), Arc<str>>,
    hash_keys: std::hash::RandomState,
    theme_assets: Option<PathBuf>,
    /// A short hash of every asset, appended as `?v=` so browsers may cache for a year.
    pub asset_version: String,
}

impl Renderer {
    /// Loads the embedded templates, then any `*.hbs` under `<theme>/templates` over them.
    pub fn new(theme_dir: Option<&Path>) -> anyhow::Result<Self> {
        Self::with_templates(theme_dir, &[])
    }

    /// Like [`Renderer::new`], with plugins' templates `(name, source)` between the built-in
    /// ones and the theme's (so a theme can override a plugin's template too).
    pub fn with_templates(
        theme_dir: Option<&Path>,
        extra: &[(&'static str, &'static str)],
    ) -> anyhow::Result<Self> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_embed_templates_with_extension::<EmbeddedTemplates>(".hbs")
            .map_err(|e| anyhow::anyhow!("built-in template: {e}"))?;
        for (name, source) in extra {
            hb.register_template_string(name, source)
                .map_err(|e| anyhow::anyhow!("plugin template {name}: {e}"))?;
        }
        let mut text = hb.clone();
        text.register_escape_fn(handlebars::no_escape);
        let mut theme_assets = None;
        if let Some(theme) = theme_dir {
            let t = theme.join("templates");
            if t.is_dir() {
                let opts = || {
                    let mut o = DirectorySourceOptions::default();
                    o.tpl_extension = ".hbs".into();
                    o
                };
                text.register_templates_directory(&t, opts())
                    .map_err(|e| anyhow::anyhow!("theme template in {}: {e}", t.display()))?;
                hb.register_templates_directory(&t, opts())
                    .map_err(|e| anyhow::anyhow!("theme template in {}: {e}", t.display()))?;
            }
            let a = theme.join("assets");
            if a.is_dir() {
                theme_assets = Some(a);
            }
        }
        let mut h = Sha256::new();
        let mut names: Vec<_> = EmbeddedAssets::iter().collect();
        names.sort();
        for n in names {
            h.update(n.as_bytes());
            if let Some(f) = EmbeddedAssets::get(&n) {
                h.update(f.metadata.sha256_hash());
            }
        }
        if let Some(dir) = &theme_assets {
            h.update(dir.to_string_lossy().as_bytes());
        }
        let asset_version = hex::encode(&h.finalize()[..5]);
        Ok(Self {
            hb,
            text,
            fragments: quick_cache::sync::Cache::new(FRAGMENT_CACHE_ITEMS),
            hash_keys: std::hash::RandomState::new(),
            theme_assets,
            asset_version,
        })
    }

    /// Renders a registered template.
    pub fn render<T: Serialize>(
        &self,
        name: &str,
        ctx: &T,
    ) -> Result<String, handlebars::RenderError> {
        self.hb.render(name, ctx)
    }

    /// Renders a template without HTML escaping (plain-text mail).
    pub fn render_text<T: Serialize>(
        &self,
        name: &str,
        ctx: &T,
    ) -> Result<String, handlebars::RenderError> {
        self.text.render(name, ctx)
    }

    /// Renders a list item's template, reusing the HTML rendered earlier for an identical view.
    ///
    /// The key is the template, the item's id and a (randomly keyed) hash of everything the
    /// template sees, so any change (an edit, the viewer's permissions, the relative time)
    /// renders afresh. The view must not hold anything specific to one viewer beyond what is
    /// hashed (no CSRF token), and holds [`NESTED_MARKER`] where nested content goes.
    pub fn render_cached<T: Serialize + Hash>(
        &self,
        template: &'static str,
        id: i32,
        view: &T,
    ) -> Result<Arc<str>, handlebars::RenderError> {
        let key = (template, id, self.hash_keys.hash_one(view));
        if let Some(html) = self.fragments.get(&key) {
            return Ok(html);
        }
        let html: Arc<str> = self.hb.render(template, view)?.into();
        self.fragments.insert(key, html.clone());
        Ok(html)
    }

    /// An asset's bytes and content type, from the theme folder first, then the binary.
    pub fn asset(&self, path: &str) -> Option<(Cow<'static, [u8]>, String)> {
        if path
            .split('/')
            .any(|seg| seg.is_empty() || seg == ".." || seg.starts_with('.'))
        {
            return None;
        }
        let mime = mime_for(path);
        if let Some(dir) = &self.theme_assets {
            if let Ok(bytes) = std::fs::read(dir.join(path)) {
                return Some((Cow::Owned(bytes), mime));
            }
        }
        EmbeddedAssets::get(path).map(|f| (f.data, mime))
    }
}

fn mime_for(path: &str) -> String {
    let ext = path.rsplit('.').next().unwrap_or_default();
    match ext {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Hash)]
    struct Msg<'a> {
        error: &'a str,
    }

    #[test]
    fn cached_fragments_equal_fresh_renders_and_follow_the_view() {
        let r = Renderer::new(None).unwrap();
        let a = r
            .render_cached("partials/composer_error", 1, &Msg { error: "a <b>" })
            .unwrap();
        let again = r
            .render_cached("partials/composer_error", 1, &Msg { error: "a <b>" })
            .unwrap();
        assert!(Arc::ptr_eq(&a, &again), "the second render is a cache hit");
        assert_eq!(
            &*a,
            r.render("partials/composer_error", &Msg { error: "a <b>" })
                .unwrap()
        );
        let b = r
            .render_cached("partials/composer_error", 1, &Msg { error: "changed" })
            .unwrap();
        assert!(b.contains("changed") && !b.contains("a &lt;b&gt;"));
    }
}
