//! Mails about paid orders (SPEC F7.3): the buyer's confirmation and each seller's "new
//! order to ship". Queued as durable mail jobs in the subscriber's transaction, with a dedup
//! key per order and recipient, so a repeated delivery of the event queues nothing more.

use jangteo_core::events::DomainEvent;
use jangteo_store::DatabaseTransaction;
use jangteo_store::{accounts, jobs as job_store, orders};

use crate::Services;
use crate::jobs::{Job, SendMail};
use crate::mail::{self, Mail, MailLine};
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
        let now = services.clock().now();
        for d in events {
            let DomainEvent::OrderPaid { order_id, buyer_id } = &d.event else {
                continue;
            };
            let Some(order) = orders::find(tx, *order_id).await? else {
                continue;
            };
            let lines = orders::lines(tx, std::slice::from_ref(&order)).await?;
            let id = order_id.to_string();
            let buyer = accounts::find_user(tx, *buyer_id).await?;
            let all: Vec<MailLine> = lines.iter().map(as_mail).collect();
            let mut mails = vec![mail::order_paid(
                buyer.email.as_str(),
                &id,
                order.total.minor(),
                &all,
            )];
            let mut sellers: Vec<_> = lines.iter().map(|l| l.seller_id).collect();
            sellers.sort_unstable();
            sellers.dedup();
            for seller in sellers {
                let user = accounts::find_user(tx, seller).await?;
                let theirs: Vec<MailLine> = lines
                    .iter()
                    .filter(|l| l.seller_id == seller)
                    .map(as_mail)
                    .collect();
                mails.push(mail::new_order(user.email.as_str(), &id, &theirs));
            }
            for m in mails {
                queue(tx, &id, m, now).await?;
            }
        }
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

async fn queue(
    tx: &DatabaseTransaction,
    order: &str,
    m: Mail,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let dedup = format!("order-mail:{order}:{}", m.to);
    let job = SendMail::from(m);
    job_store::enqueue(
        tx,
        job_store::NewJob {
            id: jangteo_core::ids::new_id(),
            kind: SendMail::KIND,
            payload: serde_json::to_string(&job)?,
            dedup_key: Some(dedup),
            due_at: now,
            max_attempts: SendMail::MAX_ATTEMPTS,
        },
        now,
    )
    .await?;
    Ok(())
}
