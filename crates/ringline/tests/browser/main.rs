//! End-to-end tests in a real browser: headless Chromium driven through chromedriver, on the
//! real application (SQLite), at a desktop window (1366×900) and a phone's (390×844).
//!
//! Needs Debian's `chromium` and `chromium-driver` (or `RINGLINE_CHROMIUM` and
//! `RINGLINE_CHROMEDRIVER`); without them every test prints "skipped" and passes, except with
//! `CI=true`, where they fail. `RINGLINE_SCREENSHOTS=<folder>` also writes the first two screens
//! of every page at both widths there, to look at.
//!
//! The flows are those a person does: log in; create a party member through the form, mistake
//! and correction included, then move them to another organization; retire a unit; import a
//! file with errors, read the report, apply the fixed file and undo it; create a dispatch batch,
//! run its plan, pin a pair and confirm it. Every page a county
//! administrator can open must fit a phone's width without the page scrolling sideways.

/// For each `async fn name(cx: Ctx)`, generates the tests `name_desktop` and `name_phone`, each
/// on a freshly spawned application in a new browser at that width.
macro_rules! at_both_widths {
    ($($name:ident),+ $(,)?) => {
        pastey::paste! {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn [<$name _desktop>]() {
                    $crate::driver::run($crate::driver::Width::Desktop, $name).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn [<$name _phone>]() {
                    $crate::driver::run($crate::driver::Width::Phone, $name).await;
                }
            )+
        }
    };
}

mod app;
mod dispatch;
mod driver;
mod flows;
mod pages;
