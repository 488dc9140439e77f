use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_util::codec::{FramedRead, FramedWrite};

use super::handshake::{self, HANDSHAKE_MAX_FRAME};
use super::server::serve_with;
use super::*;

const T: Duration = Duration::from_secs(5);

#[derive(Serialize, Deserialize)]
enum TestReq {
    /// Items 0..n.
    Count(u32),
    /// Two items, then a unique violation.
    Fail,
    /// Items until the client goes away.
    Forever,
    /// One item padded to this many bytes.
    Big(usize),
    /// One item, whatever the padding sent along.
    Pad(Vec<u8>),
    /// Nothing for two seconds, then one item.
    Stall,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Numbered {
    n: u32,
    pad: Vec<u8>,
}

fn item(n: u32) -> Numbered {
    Numbered { n, pad: Vec::new() }
}

#[derive(Default)]
struct TestHandler {
    /// Told how many items `Forever` sent once its `send` failed.
    cancelled: parking_lot::Mutex<Option<oneshot::Sender<u32>>>,
    clock: TestClock,
}

/// A clock that only moves when it observes a later reading.
#[derive(Default)]
struct TestClock(std::sync::atomic::AtomicI64);

impl Clock for TestClock {
    fn stamp(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn observe(&self, remote: i64) {
        self.0
            .fetch_max(remote, std::sync::atomic::Ordering::SeqCst);
    }
}

const DUPLICATE: &str = "duplicate key value violates unique constraint \"t_pkey\"";

#[async_trait::async_trait]
impl Handler for TestHandler {
    type Req = TestReq;
    type Resp = Numbered;

    fn clock(&self) -> Option<&dyn Clock> {
        Some(&self.clock)
    }

    async fn handle(&self, req: TestReq, out: Sender<Numbered>) -> Result<()> {
        match req {
            TestReq::Count(n) => {
                for i in 0..n {
                    out.send(item(i)).await?;
                }
            }
            TestReq::Fail => {
                out.send(item(0)).await?;
                out.send(item(1)).await?;
                return Err(Error::UniqueViolation(DUPLICATE.to_string()));
            }
            TestReq::Forever => {
                for i in 0.. {
                    if let Err(e) = out.send(item(i)).await {
                        if let Some(tx) = self.cancelled.lock().take() {
                            let _ = tx.send(i);
                        }
                        return Err(e);
                    }
                }
            }
            TestReq::Big(len) => {
                out.send(Numbered {
                    n: 0,
                    pad: vec![7; len],
                })
                .await?;
            }
            TestReq::Pad(_) => out.send(item(0)).await?,
            TestReq::Stall => {
                tokio::time::sleep(Duration::from_secs(2)).await;
                out.send(item(0)).await?;
            }
        }
        Ok(())
    }
}

fn secret(s: &str) -> Arc<[u8]> {
    Arc::from(s.as_bytes())
}

struct TestServer {
    addr: SocketAddr,
    handler: Arc<TestHandler>,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<()>,
}

async fn start(key: &str, max_frame: usize) -> TestServer {
    start_with(secret(key).into(), max_frame).await
}

async fn start_with(credentials: Credentials, max_frame: usize) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = Arc::new(TestHandler::default());
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let served = tokio::spawn(serve_with(
        listener,
        credentials,
        Arc::clone(&handler),
        shutdown,
        max_frame,
    ));
    TestServer {
        addr,
        handler,
        stop: Some(stop),
        served,
    }
}

fn numbers(n: u32) -> Vec<Numbered> {
    (0..n).map(item).collect()
}

#[tokio::test]
async fn streams_items_in_order_over_one_pooled_connection() {
    let server = start("s3cret", MAX_FRAME).await;
    let client = Client::new(server.addr, secret("s3cret"));
    for _ in 0..5 {
        let items: Vec<Numbered> = client.call_all(&TestReq::Count(100), T).await.unwrap();
        assert_eq!(items, numbers(100));
    }
    let none: Vec<Numbered> = client.call_all(&TestReq::Count(0), T).await.unwrap();
    assert!(none.is_empty());
    // No limit at all is a valid timeout, not an overflow.
    let items: Vec<Numbered> = client
        .call_all(&TestReq::Count(3), Duration::MAX)
        .await
        .unwrap();
    assert_eq!(items, numbers(3));
    assert_eq!(client.connections_opened(), 1);
}

#[tokio::test]
async fn concurrent_calls_all_succeed() {
    let server = start("s3cret", MAX_FRAME).await;
    let client = Client::new(server.addr, secret("s3cret"));
    let calls: Vec<_> = (0..20)
        .map(|i| tokio::spawn(client.call_all::<_, Numbered>(&TestReq::Count(i * 10), T)))
        .collect();
    for (i, call) in (0..20).zip(calls) {
        assert_eq!(call.await.unwrap().unwrap(), numbers(i * 10));
    }
    assert!(client.connections_opened() <= 20);
    // The pool kept some of them.
    let before = client.connections_opened();
    client
        .call_all::<_, Numbered>(&TestReq::Count(1), T)
        .await
        .unwrap();
    assert_eq!(client.connections_opened(), before);
}

#[tokio::test]
async fn handler_error_arrives_with_message_and_sqlstate() {
    let server = start("s3cret", MAX_FRAME).await;
    let client = Client::new(server.addr, secret("s3cret"));
    let mut responses = client.call::<_, Numbered>(&TestReq::Fail, T).await.unwrap();
    assert_eq!(responses.next().await.unwrap().unwrap(), item(0));
    assert_eq!(responses.next().await.unwrap().unwrap(), item(1));
    let err = responses.next().await.unwrap().unwrap_err();
    assert_eq!(err.sqlstate(), "23505");
    assert!(matches!(err, Error::UniqueViolation(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with(DUPLICATE), "{text}");
    assert!(text.contains(&server.addr.to_string()), "{text}");
    assert!(responses.next().await.is_none());

    let all = client.call_all::<_, Numbered>(&TestReq::Fail, T).await;
    assert_eq!(all.unwrap_err().sqlstate(), "23505");
    // An error frame ends a response cleanly, so the connection was reused.
    assert_eq!(client.connections_opened(), 1);
}

#[tokio::test]
async fn undecodable_request_is_a_protocol_violation() {
    let server = start("s3cret", MAX_FRAME).await;
    let client = Client::new(server.addr, secret("s3cret"));
    let err = client
        .call_all::<_, Numbered>(&"not a TestReq", T)
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), "08P01", "{err}");
    let items: Vec<Numbered> = client.call_all(&TestReq::Count(3), T).await.unwrap();
    assert_eq!(items, numbers(3));
    assert_eq!(client.connections_opened(), 1);
}

#[tokio::test]
async fn wrong_secret_and_garbage_are_refused_and_counted() {
    let server = start("s3cret", MAX_FRAME).await;
    let before = rejected_connections();

    let impostor = Client::new(server.addr, secret("guess"));
    let err = impostor
        .call_all::<_, Numbered>(&TestReq::Count(1), T)
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&server.addr.to_string()), "{err}");
    assert!(err.to_string().contains("refused"), "{err}");
    assert!(rejected_connections() > before);

    // Garbage, and a well-formed frame of the wrong size: both dropped.
    for junk in [
        &b"GET / HTTP/1.1\r\n\r\n"[..],
        &[0, 0, 0, 3, b'a', b'b', b'c'],
    ] {
        let before = rejected_connections();
        let mut raw = TcpStream::connect(server.addr).await.unwrap();
        raw.write_all(junk).await.unwrap();
        let mut sink = Vec::new();
        let closed = tokio::time::timeout(T, raw.read_to_end(&mut sink)).await;
        assert!(closed.is_ok(), "server kept a connection sending garbage");
        assert!(rejected_connections() > before);
    }

    let client = Client::new(server.addr, secret("s3cret"));
    let items: Vec<Numbered> = client.call_all(&TestReq::Count(3), T).await.unwrap();
    assert_eq!(items, numbers(3));
}

#[tokio::test]
async fn impostor_server_is_rejected() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Speaks the protocol, skips checking the client, proves the wrong secret.
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read_half, write_half) = stream.into_split();
        let mut reader = FramedRead::new(read_half, codec(HANDSHAKE_MAX_FRAME));
        let mut writer = FramedWrite::new(write_half, codec(MAX_FRAME));
        let server_nonce = [9u8; 32];
        let hello = [b"MOSAIC-RPC-1".as_slice(), &server_nonce].concat();
        writer.send(Bytes::from(hello)).await.unwrap();
        let reply = reader.next().await.unwrap().unwrap();
        let proof = handshake::proof(b"other", b"server", &reply[..32], &server_nonce).unwrap();
        writer.send(proof).await.unwrap();
        // Hold the connection open so only the proof can fail the client.
        let _ = reader.next().await;
    });
    let client = Client::new(addr, secret("s3cret"));
    let err = client
        .call_all::<_, Numbered>(&TestReq::Count(1), T)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("server did not prove"), "{text}");
    assert!(text.contains(&addr.to_string()), "{text}");
}

#[tokio::test]
async fn dropping_the_stream_cancels_the_handler() {
    let server = start("s3cret", MAX_FRAME).await;
    let (tx, cancelled) = oneshot::channel();
    *server.handler.cancelled.lock() = Some(tx);
    let client = Client::new(server.addr, secret("s3cret"));
    let mut responses = client
        .call::<_, Numbered>(&TestReq::Forever, T)
        .await
        .unwrap();
    for n in 0..3 {
        assert_eq!(responses.next().await.unwrap().unwrap(), item(n));
    }
    drop(responses);
    let sent = tokio::time::timeout(Duration::from_secs(1), cancelled).await;
    assert!(
        sent.is_ok(),
        "handler's send still succeeds after the client left"
    );

    // That connection was closed, not pooled.
    let items: Vec<Numbered> = client.call_all(&TestReq::Count(2), T).await.unwrap();
    assert_eq!(items, numbers(2));
    assert_eq!(client.connections_opened(), 2);
}

#[tokio::test]
async fn each_item_waits_at_most_the_timeout() {
    let server = start("s3cret", MAX_FRAME).await;
    let client = Client::new(server.addr, secret("s3cret"));
    let short = Duration::from_millis(200);
    let err = client
        .call_all::<_, Numbered>(&TestReq::Stall, short)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no response within"), "{err}");
}

#[tokio::test]
async fn oversized_frames_are_refused() {
    // The server refuses a request frame over its limit and drops the connection.
    let small = start("s3cret", 1024).await;
    let client = Client::new(small.addr, secret("s3cret"));
    let err = client
        .call_all::<_, Numbered>(&TestReq::Pad(vec![0; 4096]), T)
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&small.addr.to_string()), "{err}");
    // A response item over the server's limit fails that response only.
    let err = client
        .call_all::<_, Numbered>(&TestReq::Big(4096), T)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exceeds"), "{err}");
    let items: Vec<Numbered> = client.call_all(&TestReq::Count(2), T).await.unwrap();
    assert_eq!(items, numbers(2));
    assert_eq!(client.connections_opened(), 2);

    // The client refuses a response frame over its limit, and does not even
    // send a request over it.
    let server = start("s3cret", MAX_FRAME).await;
    let client = Client::with_max_frame(server.addr, secret("s3cret"), 1024, None);
    let err = client
        .call_all::<_, Numbered>(&TestReq::Big(4096), T)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("frame size too big"), "{err}");
    let before = client.connections_opened();
    let err = client
        .call_all::<_, Numbered>(&TestReq::Pad(vec![0; 4096]), T)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exceeds"), "{err}");
    assert_eq!(client.connections_opened(), before);

    // A length header just over MAX_FRAME, after a good handshake, closes the
    // connection at once: the server does not wait for (or buffer) the body.
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (read_half, write_half) = stream.into_split();
    let mut reader = FramedRead::new(read_half, codec(HANDSHAKE_MAX_FRAME));
    let mut writer = FramedWrite::new(write_half, codec(MAX_FRAME));
    let deadline = tokio::time::Instant::now() + T;
    let key = secret("s3cret");
    handshake::connect(&mut reader, &mut writer, &key, server.addr, deadline)
        .await
        .unwrap();
    let header = u32::try_from(MAX_FRAME + 1).unwrap().to_be_bytes();
    writer.get_mut().write_all(&header).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(1), reader.next()).await;
    assert!(matches!(closed, Ok(None | Some(Err(_)))), "{closed:?}");
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let mut server = start("s3cret", MAX_FRAME).await;
    let client = Client::new(server.addr, secret("s3cret"));
    client
        .call_all::<_, Numbered>(&TestReq::Count(1), T)
        .await
        .unwrap();
    server.stop.take().unwrap().send(()).unwrap();
    // The pooled connection is idle, so serve returns without the grace wait.
    tokio::time::timeout(Duration::from_secs(1), &mut server.served)
        .await
        .unwrap()
        .unwrap();
    let err = client
        .call_all::<_, Numbered>(&TestReq::Count(1), T)
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&server.addr.to_string()), "{err}");
}

#[test]
fn remote_errors_keep_their_variant_and_code() {
    let peer: SocketAddr = "10.0.0.7:5433".parse().unwrap();
    let sent = [
        Error::UniqueViolation(DUPLICATE.to_string()),
        Error::NoSuchTable("orders".to_string()),
        Error::UnknownSetting("work_mem2".to_string()),
        Error::PermissionDenied("table t".to_string()),
        Error::Internal("disk full".to_string()),
        Error::StatementTimeout,
        Error::Canceled,
        Error::TransactionAborted,
    ];
    for error in sent {
        let got = remote_error(peer, &error.to_string(), error.sqlstate());
        assert_eq!(got.sqlstate(), error.sqlstate(), "{error:?} became {got:?}");
        assert_eq!(
            std::mem::discriminant(&got),
            std::mem::discriminant(&error),
            "{error:?} became {got:?}"
        );
        assert!(got.to_string().starts_with(&error.to_string()), "{got}");
    }
    let got = remote_error(peer, &Error::Internal("x".into()).to_string(), "XX000");
    assert_eq!(got.to_string(), "internal error: x (node 10.0.0.7:5433)");
    let unknown = remote_error(peer, "something new", "ZZ999");
    assert_eq!(unknown.sqlstate(), "XX000");
    assert!(unknown.to_string().contains("10.0.0.7:5433"), "{unknown}");
    assert!(unknown.to_string().contains("ZZ999"), "{unknown}");
}

/// A cluster CA, and a way to make node credentials it signed.
struct TestCa {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    der: rustls_pki_types::CertificateDer<'static>,
}

impl TestCa {
    fn new(name: &str) -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            issuer: rcgen::Issuer::new(params, key),
            der: cert.der().clone(),
        }
    }

    /// Credentials with the secret "s3cret" and a certificate this CA
    /// signed, trusting `trusted` (this CA unless given).
    fn node(&self, trusted: Option<&TestCa>) -> Credentials {
        let key = rcgen::KeyPair::generate().unwrap();
        // A name no peer dials: only the CA counts.
        let params = rcgen::CertificateParams::new(vec!["node.invalid".to_string()]).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let der = rustls_pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
        let cas = vec![trusted.unwrap_or(self).der.clone()];
        let tls = PeerTls::new(vec![cert.der().clone()], der, cas).unwrap();
        Credentials {
            secret: secret("s3cret"),
            tls: Some(Arc::new(tls)),
        }
    }
}

#[tokio::test]
async fn calls_go_over_tls_between_nodes_of_one_ca() {
    let ca = TestCa::new("cluster CA");
    let server = start_with(ca.node(None), MAX_FRAME).await;
    let client = Client::new(server.addr, ca.node(None));
    for _ in 0..3 {
        let items: Vec<Numbered> = client.call_all(&TestReq::Count(50), T).await.unwrap();
        assert_eq!(items, numbers(50));
    }
    // Big frames cross TLS records whole.
    let big: Vec<Numbered> = client.call_all(&TestReq::Big(3 << 20), T).await.unwrap();
    assert_eq!(big[0].pad.len(), 3 << 20);
    assert_eq!(client.connections_opened(), 1);
}

#[tokio::test]
async fn tls_and_plaintext_do_not_mix() {
    let ca = TestCa::new("cluster CA");
    let tls_server = start_with(ca.node(None), MAX_FRAME).await;
    let before = rejected_connections();
    let plain = Client::new(tls_server.addr, secret("s3cret"));
    let err = plain
        .call_all::<_, Numbered>(&TestReq::Count(1), T)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&tls_server.addr.to_string()),
        "{err}"
    );
    assert!(rejected_connections() > before);

    let plain_server = start("s3cret", MAX_FRAME).await;
    let client = Client::new(plain_server.addr, ca.node(None));
    let err = client
        .call_all::<_, Numbered>(&TestReq::Count(1), T)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("TLS handshake failed"), "{err}");
}

#[tokio::test]
async fn certificates_of_another_ca_are_refused_both_ways() {
    let ca = TestCa::new("cluster CA");
    let other = TestCa::new("another CA");
    let server = start_with(ca.node(None), MAX_FRAME).await;
    // A client whose certificate the cluster CA did not sign (it trusts
    // the cluster CA, so it is the server that refuses it).
    let before = rejected_connections();
    let stranger = Client::new(server.addr, other.node(Some(&ca)));
    let err = stranger
        .call_all::<_, Numbered>(&TestReq::Count(1), T)
        .await
        .unwrap_err();
    assert!(rejected_connections() > before, "{err}");
    // A server whose certificate the cluster CA did not sign.
    let impostor = start_with(other.node(Some(&ca)), MAX_FRAME).await;
    let client = Client::new(impostor.addr, ca.node(None));
    let err = client
        .call_all::<_, Numbered>(&TestReq::Count(1), T)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("TLS handshake failed"), "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
    // The cluster's own nodes still talk.
    let friend = Client::new(server.addr, ca.node(None));
    let items: Vec<Numbered> = friend.call_all(&TestReq::Count(2), T).await.unwrap();
    assert_eq!(items, numbers(2));
}

#[tokio::test]
async fn tls_carries_the_secret_handshake_too() {
    let ca = TestCa::new("cluster CA");
    let server = start_with(ca.node(None), MAX_FRAME).await;
    let mut wrong = ca.node(None);
    wrong.secret = secret("guess");
    let client = Client::new(server.addr, wrong);
    let err = client
        .call_all::<_, Numbered>(&TestReq::Count(1), T)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("refused"), "{err}");
}

/// Each end's clock moves past the other's: the request carries the
/// client's reading, the end of the response (an error's too) the
/// server's.
#[tokio::test]
async fn clock_readings_travel_both_ways() {
    let server = start("s3cret", MAX_FRAME).await;
    let clock = Arc::new(TestClock::default());
    clock.observe(5_000);
    let client = Client::clocked(server.addr, secret("s3cret"), clock.clone());
    let items: Vec<Numbered> = client.call_all(&TestReq::Count(2), T).await.unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(server.handler.clock.stamp(), 5_000, "the request's reading");
    server.handler.clock.observe(9_000);
    let failed = client.call_all::<_, Numbered>(&TestReq::Fail, T).await;
    assert!(failed.is_err());
    assert_eq!(clock.stamp(), 9_000, "the error frame's reading");
    server.handler.clock.observe(12_000);
    client
        .call_all::<_, Numbered>(&TestReq::Count(0), T)
        .await
        .unwrap();
    assert_eq!(clock.stamp(), 12_000, "the end frame's reading");
    // A client without a clock sends 0, which moves nothing.
    let plain = Client::new(server.addr, secret("s3cret"));
    plain
        .call_all::<_, Numbered>(&TestReq::Count(1), T)
        .await
        .unwrap();
    assert_eq!(server.handler.clock.stamp(), 12_000);
}
