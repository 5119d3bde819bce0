//! Sending survey links by SMS (an HTTP gateway) and e-mail (SMTP).
//!
//! A message is first a row in `deliveries`, committed with the officer's request; one worker per
//! server sends what is due, retries with backoff, and forgets the contact once it is no longer
//! needed. A medium without a configured gateway is never sent: its messages wait in the admin's
//! outbox, shown as not sent.

use std::fmt;
use std::time::Duration;

use chrono::Utc;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::sync::Notify;

use super::{AppState, ServiceError};
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::delivery::{fill_template, mask, Backoff, Escape, Medium, Message};
use crate::storage::{Delivery, Invitation, PendingDelivery};

/// An HTTP SMS gateway: where and how to post one message.
#[derive(Clone)]
pub struct SmsGateway {
    /// May contain `{phone}`, `{phone84}`, `{link}` and `{message}`, URL-encoded when filled.
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    /// The same placeholders, escaped for the `Content-Type` header.
    pub body: String,
}

impl fmt::Debug for SmsGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values are usually credentials.
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("SmsGateway").field("method", &self.method).field("headers", &names).finish_non_exhaustive()
    }
}

/// An SMTP relay, as a URL (`smtps://user:password@host`, `smtp://host:587?tls=required`, or
/// `smtp://host:25` without TLS), and the sender.
#[derive(Clone)]
pub struct SmtpRelay {
    pub url: String,
    pub from: String,
}

impl fmt::Debug for SmtpRelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpRelay").field("from", &self.from).finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Default)]
pub struct DeliverySettings {
    pub sms: Option<SmsGateway>,
    pub smtp: Option<SmtpRelay>,
    pub backoff: Backoff,
}

/// Why a try failed: a cause fit to show an officer (never the contact), and whether trying
/// again can help.
#[derive(Debug)]
struct Failure {
    cause: String,
    permanent: bool,
}

impl Failure {
    fn transient(cause: impl Into<String>) -> Self {
        Self { cause: cause.into(), permanent: false }
    }
}

/// The configured gateways and the worker's wake-up call.
pub struct Deliveries {
    sms: Option<(SmsGateway, reqwest::Method, reqwest::Client)>,
    smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
    backoff: Backoff,
    wake: Notify,
    /// Contacts were erased and the write-ahead log may still hold them: truncate it.
    erased: std::sync::atomic::AtomicBool,
}

impl fmt::Debug for Deliveries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deliveries").field("media", &self.configured()).finish_non_exhaustive()
    }
}

impl Deliveries {
    /// Checks the settings and builds the clients; a mistake in them stops the server at start.
    pub fn new(settings: &DeliverySettings) -> Result<Self, ServiceError> {
        let config = |message: String| ServiceError::Config(message);
        let sms = match &settings.sms {
            None => None,
            Some(gateway) => {
                let method = reqwest::Method::from_bytes(gateway.method.trim().to_uppercase().as_bytes())
                    .map_err(|_| config(format!("phương thức HTTP của cổng SMS không hợp lệ: {}", gateway.method)))?;
                if !(gateway.url.starts_with("https://") || gateway.url.starts_with("http://")) {
                    return Err(config("địa chỉ cổng SMS phải bắt đầu bằng https:// hoặc http://".into()));
                }
                for (name, value) in &gateway.headers {
                    let valid = reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_ok()
                        && reqwest::header::HeaderValue::from_str(value).is_ok();
                    if !valid {
                        return Err(config(format!("tiêu đề HTTP của cổng SMS không hợp lệ: {name}")));
                    }
                }
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(15))
                    .build()
                    .map_err(|e| config(format!("không tạo được máy khách HTTP: {e}")))?;
                Some((gateway.clone(), method, client))
            }
        };
        let smtp = match &settings.smtp {
            None => None,
            Some(relay) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&relay.url)
                    .map_err(|e| config(format!("địa chỉ máy chủ thư (SMTP) không hợp lệ: {e}")))?
                    .timeout(Some(Duration::from_secs(30)))
                    .build();
                let from = relay
                    .from
                    .parse::<Mailbox>()
                    .map_err(|_| config(format!("địa chỉ gửi thư không hợp lệ: {}", relay.from)))?;
                Some((transport, from))
            }
        };
        Ok(Self { sms, smtp, backoff: settings.backoff, wake: Notify::new(), erased: Default::default() })
    }

    /// The media a gateway is configured for.
    pub fn configured(&self) -> Vec<Medium> {
        Medium::ALL.into_iter().filter(|m| self.is_configured(*m)).collect()
    }

    pub fn is_configured(&self, medium: Medium) -> bool {
        match medium {
            Medium::Sms => self.sms.is_some(),
            Medium::Email => self.smtp.is_some(),
        }
    }

    fn unconfigured(&self) -> Vec<Medium> {
        Medium::ALL.into_iter().filter(|m| !self.is_configured(*m)).collect()
    }

    async fn send(&self, medium: Medium, recipient: &str, message: &Message) -> Result<(), Failure> {
        match medium {
            Medium::Sms => self.send_sms(recipient, message).await,
            Medium::Email => self.send_email(recipient, message).await,
        }
    }

    async fn send_sms(&self, phone: &str, message: &Message) -> Result<(), Failure> {
        let Some((gateway, method, client)) = &self.sms else {
            return Err(Failure::transient("Chưa cấu hình cổng SMS."));
        };
        let content_type =
            gateway.headers.iter().find(|(name, _)| name.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.as_str());
        let mut request = client.request(method.clone(), fill_template(&gateway.url, Escape::Url, phone, message));
        for (name, value) in &gateway.headers {
            request = request.header(name, value);
        }
        if !gateway.body.is_empty() {
            request =
                request.body(fill_template(&gateway.body, Escape::for_content_type(content_type), phone, message));
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => {
                let status = response.status();
                // A 4xx other than "too many" or "timeout" is the gateway refusing this message.
                let permanent = status.is_client_error() && ![408, 429].contains(&status.as_u16());
                Err(Failure { cause: format!("Cổng SMS trả lời HTTP {}.", status.as_u16()), permanent })
            }
            Err(error) if error.is_timeout() => Err(Failure::transient("Cổng SMS không trả lời kịp.")),
            Err(_) => Err(Failure::transient("Không kết nối được cổng SMS.")),
        }
    }

    async fn send_email(&self, address: &str, message: &Message) -> Result<(), Failure> {
        let Some((transport, from)) = &self.smtp else {
            return Err(Failure::transient("Chưa cấu hình máy chủ thư."));
        };
        let to = address
            .parse::<Mailbox>()
            .map_err(|_| Failure { cause: "Địa chỉ e-mail không dùng được.".into(), permanent: true })?;
        let email = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(message.email_subject())
            .header(ContentType::TEXT_PLAIN)
            // Quoted-printable keeps the text readable in the raw message, the link on one line.
            .header(ContentTransferEncoding::QuotedPrintable)
            .body(message.email_body())
            .map_err(|_| Failure { cause: "Không soạn được thư.".into(), permanent: true })?;
        match transport.send(email).await {
            Ok(_) => Ok(()),
            Err(error) => {
                // Only the reply code: the server's text may repeat the address.
                let cause = match error.status() {
                    Some(code) => format!("Máy chủ thư từ chối (mã {code})."),
                    None => "Không kết nối được máy chủ thư.".into(),
                };
                Err(Failure { cause, permanent: error.is_permanent() })
            }
        }
    }
}

/// A message waiting in the outbox for an admin to send by hand.
#[derive(Clone, Debug)]
pub struct OutboxItem {
    pub pending: PendingDelivery,
    pub text: String,
}

/// Adds one try to `hailong_deliveries_total`: sent, to be retried, or failed for good.
fn count_delivery(medium: Medium, outcome: &'static str) {
    metrics::counter!("hailong_deliveries_total", "medium" => medium.as_str(), "outcome" => outcome).increment(1);
}

/// How long a claimed delivery is kept from the other senders (servers) while this one sends
/// it: longer than a round of 20 sends at the gateways' timeouts (30 s at most). A server that
/// dies while sending leaves the message to be sent once this has passed.
const SEND_LEASE: chrono::Duration = chrono::Duration::minutes(15);

/// Why a message whose link cannot be opened is not sent.
const LINK_LOST: &str = "Không mở được đường dẫn đã lưu (khóa liên kết HAILONG_LINK_SECRET đã bị thay đổi?).";

/// Longest the worker sleeps: expired invitations' contacts are forgotten within this.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// How soon the worker tries again to empty the write-ahead log when readers were in the way.
const RETRY_TRUNCATE: Duration = Duration::from_secs(5);

impl AppState {
    /// Queues a message for each contact of a pending invitation and wakes the worker.
    /// Returns how many were queued (a contact whose message is queued or sent is not sent twice).
    pub async fn queue_deliveries(
        &self,
        invitation: &Invitation,
        contacts: &[(Medium, String)],
    ) -> Result<usize, ServiceError> {
        let mut queued = 0;
        for (medium, recipient) in contacts {
            if self.db.queue_delivery(invitation.id, *medium, recipient, &mask(*medium, recipient)).await? {
                queued += 1;
            }
        }
        if queued > 0 {
            self.deliveries.wake.notify_one();
        }
        Ok(queued)
    }

    pub async fn deliveries_of(&self, invitation: &Invitation) -> Result<Vec<Delivery>, ServiceError> {
        Ok(self.db.deliveries_of(invitation.id).await?)
    }

    /// The media a gateway is configured for.
    pub fn delivery_media(&self) -> Vec<Medium> {
        self.deliveries.configured()
    }

    pub fn delivery_configured(&self, medium: Medium) -> bool {
        self.deliveries.is_configured(medium)
    }

    /// The message of a delivery; `None` if its link can no longer be opened (the link secret
    /// was changed): such a message cannot be sent.
    fn message_for(&self, pending: &PendingDelivery) -> Option<Message> {
        Some(Message {
            agency: pending.agency_name.clone(),
            link: self.delivery_link(pending)?.url,
            last_day: crate::domain::invitation::last_day(pending.expires_at),
        })
    }

    /// Messages no gateway will send: an admin reads them here and sends them by hand.
    pub async fn outbox(&self) -> Result<Vec<OutboxItem>, ServiceError> {
        let pending = self.db.outbox(&self.deliveries.unconfigured()).await?;
        Ok(pending
            .into_iter()
            .map(|pending| {
                let text = match (self.message_for(&pending), pending.delivery.medium) {
                    (Some(message), Medium::Sms) => message.sms_text(),
                    (Some(message), Medium::Email) => {
                        format!("{}\n\n{}", message.email_subject(), message.email_body())
                    }
                    (None, _) => LINK_LOST.to_owned(),
                };
                OutboxItem { pending, text }
            })
            .collect())
    }

    /// An admin has sent an outbox message by hand: record it as sent and forget the contact.
    pub async fn mark_sent_by_hand(&self, actor: &Actor, delivery_id: i64) -> Result<bool, ServiceError> {
        let outbox = self.db.outbox(&self.deliveries.unconfigured()).await?;
        if !outbox.iter().any(|p| p.delivery.id == delivery_id) {
            return Ok(false);
        }
        let marked = self.db.mark_delivery_sent(delivery_id, Utc::now()).await?;
        if marked {
            self.db.audit(actor, AuditAction::DeliverySentByHand, &delivery_id.to_string()).await?;
            // The worker empties the write-ahead log of the erased contact.
            self.contacts_erased();
            self.deliveries.wake.notify_one();
        }
        Ok(marked)
    }

    /// One round of the worker: forgets the contacts of closed invitations, sends what is due,
    /// and says how long to sleep before the next round.
    pub async fn deliver_due(&self) -> Result<Duration, ServiceError> {
        if self.db.cancel_closed_deliveries(Utc::now()).await? > 0 {
            self.contacts_erased();
        }
        // A link nobody may print again and no message still needs is erased.
        if self.db.forget_old_links(Utc::now()).await? > 0 {
            self.contacts_erased();
        }
        let media = self.deliveries.configured();
        // Bounded, so that a wake-up storm cannot starve the sweep above.
        for _ in 0..50 {
            let now = Utc::now();
            let due = self.db.claim_due_deliveries(&media, now, now + SEND_LEASE, 20).await?;
            if due.is_empty() {
                break;
            }
            for pending in due {
                self.try_delivery(&pending).await?;
            }
        }
        let next = self.db.next_delivery_at(&media).await?;
        let sleep = next.map_or(MAX_SLEEP, |at| (at - Utc::now()).to_std().unwrap_or(Duration::ZERO).min(MAX_SLEEP));
        Ok(if self.forget_erased_contacts().await? { sleep } else { sleep.min(RETRY_TRUNCATE) })
    }

    /// Notes that a contact was set to NULL: the next round truncates the write-ahead log.
    fn contacts_erased(&self) {
        self.deliveries.erased.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Truncates the write-ahead log if contacts were erased since it was last emptied; false
    /// when readers kept it from finishing (the worker tries again soon).
    async fn forget_erased_contacts(&self) -> Result<bool, ServiceError> {
        use std::sync::atomic::Ordering;
        if !self.deliveries.erased.swap(false, Ordering::SeqCst) {
            return Ok(true);
        }
        let done = self.db.truncate_wal().await?;
        if !done {
            self.contacts_erased();
        }
        Ok(done)
    }

    async fn try_delivery(&self, pending: &PendingDelivery) -> Result<(), ServiceError> {
        let delivery = &pending.delivery;
        let sent = match self.message_for(pending) {
            Some(message) => self.deliveries.send(delivery.medium, &pending.recipient, &message).await,
            None => Err(Failure { cause: LINK_LOST.to_owned(), permanent: true }),
        };
        match sent {
            Ok(()) => {
                self.db.mark_delivery_sent(delivery.id, Utc::now()).await?;
                count_delivery(delivery.medium, "sent");
                self.contacts_erased();
                tracing::info!(delivery = delivery.id, medium = delivery.medium.as_str(), "survey link sent");
            }
            Err(failure) => {
                let attempts = delivery.attempts + 1;
                let retry = if failure.permanent { None } else { self.deliveries.backoff.after(attempts) };
                let retry_at = retry.map(|wait| Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default());
                self.db.mark_delivery_failed(delivery.id, &failure.cause, retry_at).await?;
                count_delivery(delivery.medium, if retry_at.is_some() { "retry" } else { "failed" });
                if retry_at.is_none() {
                    self.contacts_erased();
                }
                tracing::warn!(
                    delivery = delivery.id,
                    medium = delivery.medium.as_str(),
                    attempts,
                    cause = failure.cause,
                    gave_up = retry_at.is_none(),
                    "survey link not sent"
                );
            }
        }
        Ok(())
    }

    /// Starts the delivery worker on the current Tokio runtime (one per server).
    pub fn start_delivery_worker(&self) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            loop {
                let sleep = state.deliver_due().await.unwrap_or_else(|error| {
                    tracing::error!(%error, "delivery round failed");
                    Duration::from_secs(30)
                });
                tokio::select! {
                    () = state.deliveries.wake.notified() => {}
                    () = tokio::time::sleep(sleep) => {}
                }
            }
        })
    }
}
