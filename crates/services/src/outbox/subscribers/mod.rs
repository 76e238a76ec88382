//! Today's outbox subscribers. The read cache is not among them: the committing process
//! drops its cached reads at commit (`tx.rs`), so a writer reads its own write at once.

mod cart_cleanup;
mod order_mail;
mod sales;
mod search_index;

pub use cart_cleanup::CartCleanup;
pub use order_mail::OrderMail;
pub use sales::SalesCounter;
pub use search_index::SearchIndexer;
