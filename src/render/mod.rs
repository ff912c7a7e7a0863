//! Presentation plumbing: the handlebars registry (strict mode, embedded templates with an
//! optional theme folder on top), embedded assets, Markdown and time formatting.

pub mod markdown;
pub mod time;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

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

/// The template registry plus asset lookup, built once at start.
pub struct Renderer {
    hb: Handlebars<'static>,
    theme_assets: Option<PathBuf>,
    /// A short hash of every asset, appended as `?v=` so browsers may cache for a year.
    pub asset_version: String,
}

impl Renderer {
    /// Loads the embedded templates, then any `*.hbs` under `<theme>/templates` over them.
    pub fn new(theme_dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_embed_templates_with_extension::<EmbeddedTemplates>(".hbs")
            .map_err(|e| anyhow::anyhow!("built-in template: {e}"))?;
        let mut theme_assets = None;
        if let Some(theme) = theme_dir {
            let t = theme.join("templates");
            if t.is_dir() {
                let mut opts = DirectorySourceOptions::default();
                opts.tpl_extension = ".hbs".into();
                hb.register_templates_directory(&t, opts)
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
