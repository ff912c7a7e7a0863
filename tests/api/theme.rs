//! A theme folder overrides built-in templates and assets by name.

use crate::helpers::*;

#[tokio::test]
async fn theme_folder_overrides_templates_and_assets() {
    let theme = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(theme.path().join("templates")).unwrap();
    std::fs::create_dir_all(theme.path().join("assets")).unwrap();
    std::fs::write(
        theme.path().join("templates/error.hbs"),
        "<p class=\"themed\">Themed {{status}}: {{title}}</p>",
    )
    .unwrap();
    std::fs::write(
        theme.path().join("assets/app.css"),
        "body{color:rebeccapurple}",
    )
    .unwrap();
    let dir = theme.path().to_path_buf();
    let app = TestApp::spawn_with(Backend::Sqlite, move |s| s.theme_dir = Some(dir))
        .await
        .unwrap();
    let html = app.get("/nothing-here").await.text().await.unwrap();
    assert!(
        html.contains("<p class=\"themed\">Themed 404: Not found</p>"),
        "{html}"
    );
    let css = app.get("/assets/app.css").await.text().await.unwrap();
    assert_eq!(css, "body{color:rebeccapurple}");
    // Files the theme does not override still come from the binary.
    assert_eq!(app.get("/assets/htmx.min.js").await.status(), 200);
}
