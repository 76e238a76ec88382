//! Mails about paid orders (SPEC F7.3): the buyer's confirmation and each seller's "new
//! order to ship". Queued as durable mail jobs in the subscriber's transaction, which also
//! records the delivery, so a repeated delivery of the event queues nothing more.

use jangteo_core::events::DomainEvent;
use jangteo_core::ids::{OrderId, UserId};
use jangteo_store::DatabaseTransaction;
use jangteo_store::{accounts, jobs as job_store, orders};

use crate::Services;
use crate::jobs::{Job, SendMail};
use crate::mail::{self, MailLine};
use crate::outbox::{Delivery, Subscriber};

pub struct OrderMail;

#[async_trait::async_trait]
impl Subscriber for OrderMail {
    fn name(&self) -> &'static str {
        "order_mail"
    }

    fn wants(&self, event: &DomainEvent) -> bool {
        matches!(event, DomainEvent::OrderPaid { .. })
    }

    async fn apply(
        &self,
        services: &Services,
        tx: &DatabaseTransaction,
        events: &[Delivery],
    ) -> anyhow::Result<()> {
        // The whole batch in four statements: its orders, their lines, the people to mail,
        // and one insert of every mail job.
        let now = services.clock().now();
        let ids: Vec<OrderId> = events
            .iter()
            .filter_map(|d| match &d.event {
                DomainEvent::OrderPaid { order_id, .. } => Some(*order_id),
                _ => None,
            })
            .collect();
        let paid = orders::find_many(tx, &ids).await?;
        let lines = orders::lines(tx, &paid).await?;
        let mut people: Vec<UserId> = paid.iter().map(|o| o.buyer_id).collect();
        people.extend(lines.iter().map(|l| l.seller_id));
        people.sort_unstable();
        people.dedup();
        let people = accounts::find_users(tx, &people).await?;
        let email_of = |id: UserId| people.iter().find(|u| u.id == id).map(|u| u.email.as_str());
        let mut jobs = Vec::new();
        for order in &paid {
            let id = order.id.to_string();
            let theirs: Vec<&orders::OrderLine> =
                lines.iter().filter(|l| l.order_id == order.id).collect();
            let all: Vec<MailLine> = theirs.iter().map(|l| as_mail(l)).collect();
            let mut mails = Vec::new();
            if let Some(to) = email_of(order.buyer_id) {
                mails.push(mail::order_paid(to, &id, order.total.minor(), &all));
            }
            let mut sellers: Vec<UserId> = theirs.iter().map(|l| l.seller_id).collect();
            sellers.sort_unstable();
            sellers.dedup();
            for seller in sellers {
                let Some(to) = email_of(seller) else { continue };
                let part: Vec<MailLine> = theirs
                    .iter()
                    .filter(|l| l.seller_id == seller)
                    .map(|l| as_mail(l))
                    .collect();
                mails.push(mail::new_order(to, &id, &part));
            }
            for m in mails {
                jobs.push(job_store::NewJob {
                    id: jangteo_core::ids::new_id(),
                    kind: SendMail::KIND,
                    payload: serde_json::to_string(&SendMail::from(m))?,
                    // Once per event already: the outbox records the delivery in this
                    // transaction, so no dedup key (and no lookup of one) is needed.
                    dedup_key: None,
                    due_at: now,
                    max_attempts: SendMail::MAX_ATTEMPTS,
                });
            }
        }
        job_store::enqueue_many(tx, jobs, now).await?;
        services.jobs().wake();
        Ok(())
    }
}

fn as_mail(l: &orders::OrderLine) -> MailLine<'_> {
    MailLine {
        product: &l.product_name,
        variant: &l.variant_name,
        quantity: l.quantity,
        total: l.line_total.minor(),
    }
}
