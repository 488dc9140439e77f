//! A PostgreSQL protocol client that sends whatever bytes it is given:
//! it logs in (SCRAM-SHA-256) like any client, then writes raw frames,
//! well formed or not, and reads back what the server answers.

use bytes::{Buf, BufMut, BytesMut};
use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One backend message: its type byte and body.
pub struct Frame {
    pub tag: u8,
    pub body: Vec<u8>,
}

/// What the server answered, up to ReadyForQuery or the end of the
/// connection.
#[derive(Debug, Default)]
pub struct Reply {
    /// (severity, SQLSTATE, message) of each ErrorResponse.
    pub errors: Vec<(String, String, String)>,
    pub ready: bool,
    pub closed: bool,
}

pub struct Raw {
    stream: TcpStream,
    buf: BytesMut,
}

fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn cstring(b: &[u8]) -> (String, &[u8]) {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let rest = b.get(end + 1..).unwrap_or(&[]);
    (String::from_utf8_lossy(&b[..end]).into_owned(), rest)
}

impl Raw {
    /// Connect to `addr` and send the startup packet for `user`: the
    /// server's next message asks for the login.
    pub async fn started(addr: &str, user: &str) -> Raw {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let mut raw = Raw {
            stream,
            buf: BytesMut::new(),
        };
        let mut startup = BytesMut::new();
        postgres_protocol::message::frontend::startup_message(
            [("user", user), ("database", "mosaic")],
            &mut startup,
        )
        .expect("startup message");
        raw.send(&startup).await;
        raw
    }

    /// Connect to `addr` and log in as `user` with `password`.
    pub async fn login(addr: &str, user: &str, password: &str) -> Raw {
        let mut raw = Raw::started(addr, user).await;
        let mut scram = ScramSha256::new(password.as_bytes(), ChannelBinding::unsupported());
        loop {
            let f = raw.next().await.expect("the server answers the login");
            match (
                f.tag,
                f.body
                    .get(..4)
                    .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]])),
            ) {
                (b'R', Some(10)) => {
                    let mut m = BytesMut::new();
                    postgres_protocol::message::frontend::sasl_initial_response(
                        "SCRAM-SHA-256",
                        scram.message(),
                        &mut m,
                    )
                    .expect("sasl message");
                    raw.send(&m).await;
                }
                (b'R', Some(11)) => {
                    scram.update(&f.body[4..]).expect("server-first");
                    let mut m = BytesMut::new();
                    postgres_protocol::message::frontend::sasl_response(scram.message(), &mut m)
                        .expect("sasl response");
                    raw.send(&m).await;
                }
                (b'R', Some(12)) => scram.finish(&f.body[4..]).expect("server-final"),
                (b'E', _) => panic!("login refused: {:?}", Self::error_fields(&f.body)),
                (b'Z', _) => return raw,
                _ => {}
            }
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        // A write to a connection the server closed fails; the reply says so.
        let _ = self.stream.write_all(bytes).await;
    }

    /// Send one frame of type `tag` with `body`, its length computed.
    pub async fn send_frame(&mut self, tag: u8, body: &[u8]) {
        self.send(&frame(tag, body)).await;
    }

    /// The next backend message, or `None` once the connection ends.
    pub async fn next(&mut self) -> Option<Frame> {
        loop {
            if self.buf.len() >= 5 {
                let len = i32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]);
                let len = usize::try_from(len).ok()?;
                if self.buf.len() > len {
                    let tag = self.buf.get_u8();
                    self.buf.advance(4);
                    let body = self.buf.split_to(len - 4).to_vec();
                    return Some(Frame { tag, body });
                }
            }
            let mut chunk = [0u8; 8192];
            match self.stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.put_slice(&chunk[..n]),
            }
        }
    }

    fn error_fields(body: &[u8]) -> (String, String, String) {
        let (mut severity, mut code, mut message) = Default::default();
        let mut rest = body;
        while let Some((&kind, tail)) = rest.split_first() {
            if kind == 0 {
                break;
            }
            let (value, tail) = cstring(tail);
            match kind {
                b'S' => severity = value,
                b'C' => code = value,
                b'M' => message = value,
                _ => {}
            }
            rest = tail;
        }
        (severity, code, message)
    }

    /// Read until ReadyForQuery or the connection's end, at most 10 s.
    pub async fn reply(&mut self) -> Reply {
        let mut reply = Reply::default();
        let read = async {
            while let Some(f) = self.next().await {
                match f.tag {
                    b'E' => reply.errors.push(Self::error_fields(&f.body)),
                    b'Z' => {
                        reply.ready = true;
                        return;
                    }
                    _ => {}
                }
            }
            reply.closed = true;
        };
        if tokio::time::timeout(std::time::Duration::from_secs(10), read)
            .await
            .is_err()
        {
            panic!("no answer within 10 s: {reply:?}");
        }
        reply
    }
}
