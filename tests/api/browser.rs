//! Browser tests (headless Chromium through chromedriver): written separately.
