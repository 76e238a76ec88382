//! Today's outbox subscribers. The read cache is not among them: the committing process
//! drops its cached reads at commit (`tx.rs`), so a writer reads its own write at once.

mod order_mail;
mod sales;
mod search_index;

pub use order_mail::OrderMail;
pub use sales::SalesCounter;
pub use search_index::SearchIndexer;
