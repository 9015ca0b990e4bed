//! Outgoing mail: `log` (default: written to the server log), `file:DIR` (one .eml file per
//! message) or `smtp://…` (real SMTP through lettre).
//!
//! The `log` transport writes the whole message, one-time codes included, to the log: it is
//! meant for development, and the server warns at start-up when it is on.

use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};

use crate::config::MailTransport;

/// A message to one manager. `Debug` leaves the body out: it carries one-time secrets.
#[derive(Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("body", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address: {0}")]
    Address(#[from] lettre::address::AddressError),
    #[error("cannot build message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("file transport: {0}")]
    File(#[from] lettre::transport::file::Error),
    #[error("cannot create mail directory: {0}")]
    Dir(#[from] std::io::Error),
}

#[derive(Clone)]
enum Transport {
    Log,
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.transport {
            Transport::Log => "log",
            Transport::File(_) => "file",
            Transport::Smtp(_) => "smtp",
        };
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("transport", &kind)
            .finish()
    }
}

impl Mailer {
    pub fn new(transport: &MailTransport, from: &str) -> Result<Mailer, MailError> {
        let from: Mailbox = from.parse()?;
        let transport = match transport {
            MailTransport::Log => Transport::Log,
            MailTransport::File(dir) => {
                std::fs::create_dir_all(dir)?;
                Transport::File(AsyncFileTransport::new(dir))
            }
            MailTransport::Smtp(url) => {
                Transport::Smtp(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.build())
            }
        };
        Ok(Mailer { from, transport })
    }

    pub fn is_log(&self) -> bool {
        matches!(self.transport, Transport::Log)
    }

    pub async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(mail.to.parse()?)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())?;
        match &self.transport {
            Transport::Log => {
                tracing::info!(target: "mail", to = %mail.to, subject = %mail.subject, body = %mail.body, "mail (log transport)");
            }
            Transport::File(transport) => {
                transport.send(message).await?;
            }
            Transport::Smtp(transport) => {
                transport.send(message).await?;
            }
        }
        Ok(())
    }

    /// Sends in the background: the caller's answer must not wait for (or reveal, through its
    /// timing) the mail server. Failures are logged without the body.
    pub fn send_later(&self, mail: Mail) {
        let mailer = self.clone();
        tokio::spawn(async move {
            let (to, subject) = (mail.to.clone(), mail.subject.clone());
            if let Err(err) = mailer.send(mail).await {
                tracing::error!(%to, %subject, error = %err, "mail could not be sent");
            }
        });
    }
}
