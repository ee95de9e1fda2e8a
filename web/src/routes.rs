//! The pages that are loaded on demand: every page besides the overview is a lazy route.
//!
//! The overview (`/`) is the page an officer opens first, so it stays in the main wasm
//! module with the runtime and the page frame. The other pages are one `#[lazy]`
//! function, [`page_view`]: in the browser build wasm-split (`scripts/build-web.sh`)
//! cuts their code out of the main module into a module of its own, fetched when one of
//! them is opened. On a full page load the server names that module in
//! a `<link rel="preload">` (from `pkg/__wasm_split_manifest.json`), so it downloads
//! alongside the main module; `leptos::mount::hydrate_lazy` waits for it before it takes
//! the server-rendered page over. On the server nothing changes: every page is rendered
//! completely, as before.
//!
//! Why one module for the other pages and not one per page: every module is compressed
//! on its own, and code that several lazy modules use goes into chunks of its own.
//! Measured with `scripts/build-web.sh` (JS + wasm a browser loads, gzip): one module
//! per page (14 modules and 126 shared chunks) was 695 KB in all, three groups of pages
//! 529 KB, one module 485 KB, the only layout within the 500 KB budget
//! (docs/BENCHMARKS.md).
//!
//! The route wrappers load no data of their own (`data` is empty): each page creates
//! its resources itself, as before, so server-rendered data is reused on hydration.

use leptos::prelude::*;
use leptos_router::LazyRoute;

use crate::pages;

/// The lazily loaded pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    System,
    Evidence,
    Rooms,
    Inventory,
    DeadLetters,
    Export,
    Signin,
    Enroll,
    StepUp,
    Account,
    Users,
    Tokens,
    Audit,
    People,
    /// A page rendered on the server only (`pages::fragment`).
    Fragment(pages::fragment::Fragment),
}

/// The view of a lazily loaded page. In the browser its code (and the code only the
/// lazily loaded pages use) is a wasm module of its own, fetched on the first call.
#[lazy]
pub fn page_view(page: Page) -> AnyView {
    match page {
        Page::System => view! { <pages::system::SystemPage /> }.into_any(),
        Page::Evidence => view! { <pages::evidence::EvidencePage /> }.into_any(),
        Page::Rooms => view! { <pages::rooms::RoomsPage /> }.into_any(),
        Page::Inventory => view! { <pages::inventory::InventoryPage /> }.into_any(),
        Page::DeadLetters => view! { <pages::dead_letters::DeadLettersPage /> }.into_any(),
        Page::Export => view! { <pages::export::ExportPage /> }.into_any(),
        Page::Signin => view! { <pages::signin::SigninPage /> }.into_any(),
        Page::Enroll => view! { <pages::enroll::EnrollPage /> }.into_any(),
        Page::StepUp => view! { <pages::step_up::StepUpPage /> }.into_any(),
        Page::Account => view! { <pages::account::AccountPage /> }.into_any(),
        Page::Users => view! { <pages::users::UsersPage /> }.into_any(),
        Page::Tokens => view! { <pages::tokens::TokensPage /> }.into_any(),
        Page::Audit => view! { <pages::audit::AuditPage /> }.into_any(),
        Page::People => view! { <pages::people::PeoplePage /> }.into_any(),
        Page::Fragment(page) => view! { <pages::fragment::FragmentPage page /> }.into_any(),
    }
}

/// Declares the lazy route `$route`, whose view is `page_view($page)`.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_this: Self) -> AnyView {
                page_view($page).await
            }

            // The router awaits this before it renders or hydrates the route: the
            // module must be there when the server-rendered page is hydrated.
            async fn preload() {
                #[cfg(feature = "hydrate")]
                __preload_page_view().await;
            }
        }
    };
}

lazy_page!(
    /// `/systems/:id`
    SystemRoute => Page::System
);
lazy_page!(
    /// `/logins/:id`
    EvidenceRoute => Page::Evidence
);
lazy_page!(
    /// `/rooms`
    RoomsRoute => Page::Rooms
);
lazy_page!(
    /// `/inventory`
    InventoryRoute => Page::Inventory
);
lazy_page!(
    /// `/dead-letters`
    DeadLettersRoute => Page::DeadLetters
);
lazy_page!(
    /// `/export`
    ExportRoute => Page::Export
);
lazy_page!(
    /// `/signin`
    SigninRoute => Page::Signin
);
lazy_page!(
    /// `/enroll/:token`
    EnrollRoute => Page::Enroll
);
lazy_page!(
    /// `/step-up/:id`
    StepUpRoute => Page::StepUp
);
lazy_page!(
    /// `/account`
    AccountRoute => Page::Account
);
lazy_page!(
    /// `/users`
    UsersRoute => Page::Users
);
lazy_page!(
    /// `/tokens`
    TokensRoute => Page::Tokens
);
lazy_page!(
    /// `/audit`
    AuditRoute => Page::Audit
);
lazy_page!(
    /// `/people`
    PeopleRoute => Page::People
);
lazy_page!(
    /// `/maintenance`
    MaintenanceRoute => Page::Fragment(pages::fragment::Fragment::Maintenance)
);
lazy_page!(
    /// `/maintenance/report`
    MaintenanceReportRoute => Page::Fragment(pages::fragment::Fragment::MaintenanceReport)
);
lazy_page!(
    /// `/inspection`
    InspectionRoute => Page::Fragment(pages::fragment::Fragment::Inspection)
);
lazy_page!(
    /// `/accounts`
    AccountsRoute => Page::Fragment(pages::fragment::Fragment::Accounts)
);
lazy_page!(
    /// `/imports`
    ImportsRoute => Page::Fragment(pages::fragment::Fragment::Imports)
);
