//! Integration tests of ringline: the real application (database, seed, web server) driven
//! over HTTP and through its library, each test run on SQLite and on PostgreSQL.
//!
//! PostgreSQL tests need `RINGLINE_TEST_DATABASE_URL` (an admin URL such as
//! `postgres://postgres:postgres@127.0.0.1/postgres`); each creates and drops its own database.
//!
//! Expected values are computed independently of the code under test: counted in
//! `data/datong/divisions.csv`, or computed by hand (the comments give the numbers and how).

/// For each `async fn name(app: TestApp)`, generates the tests `name_sqlite` and
/// `name_postgres`, each with a freshly spawned app.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        pastey::paste! {
            $(
                #[tokio::test]
                async fn [<$name _sqlite>]() {
                    if let Some(app) = $crate::harness::spawn($crate::harness::Backend::Sqlite).await {
                        $name(app).await;
                    }
                }

                #[tokio::test]
                async fn [<$name _postgres>]() {
                    if let Some(app) = $crate::harness::spawn($crate::harness::Backend::Postgres).await {
                        $name(app).await;
                    }
                }
            )+
        }
    };
}

mod access;
mod api;
mod audit;
mod auth;
mod backup;
mod calls;
mod concurrency;
mod datong;
mod dispatch;
mod dispatch_kinds;
mod dispatch_web;
mod economy;
mod economy_import;
mod economy_kinds;
mod economy_web;
mod generate;
mod harness;
mod import;
mod import_ux;
mod limits;
mod matrix;
mod pages;
mod registry;
mod registry_import;
mod registry_web;
mod retired;
mod schema;
mod scope;
mod uploads;
mod users;
mod zones;
