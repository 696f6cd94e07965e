use std::time::Duration;

use super::{Died, Worker};

const LONG: Duration = Duration::from_secs(20);

/// What the test child does, by the request's first byte: echo the rest, fault,
/// abort, panic or hang.
fn act(request: &[u8]) -> Vec<u8> {
    match request.first() {
        Some(b'f') => {
            // SAFETY: not sound, on purpose: the child faults the way wasmi 2.0 does
            // when it jumps to address 0x2, and only the child.
            unsafe { std::ptr::without_provenance_mut::<u8>(2).write_volatile(1) };
            Vec::new()
        }
        Some(b'a') => std::process::abort(),
        Some(b'p') => panic!("in the child"),
        Some(b'h') => {
            std::thread::sleep(Duration::from_secs(60));
            Vec::new()
        }
        _ => request.get(1..).unwrap_or_default().to_vec(),
    }
}

fn echo(worker: &mut Worker, len: usize) {
    let mut request = vec![b'e'];
    request.extend((0..len).map(|i| i as u8));
    assert_eq!(worker.call(&request, LONG), Ok(request[1..].to_vec()));
}

#[test]
fn one_child_answers_many_requests() {
    let mut worker = Worker::new(act);
    for len in [0, 1, 300_000, 5] {
        echo(&mut worker, len);
    }
}

#[test]
fn a_dead_child_is_reported_and_replaced() {
    let mut worker = Worker::new(act);
    echo(&mut worker, 3);
    assert_eq!(worker.call(b"f", LONG), Err(Died::Signal(libc::SIGSEGV)));
    echo(&mut worker, 3);
    assert_eq!(worker.call(b"a", LONG), Err(Died::Signal(libc::SIGABRT)));
    echo(&mut worker, 3);
    assert_eq!(worker.call(b"p", LONG), Err(Died::Exit(101)));
    echo(&mut worker, 3);
}

#[test]
fn a_hang_is_killed_at_the_timeout() {
    let mut worker = Worker::new(act);
    let timeout = Duration::from_millis(200);
    assert_eq!(worker.call(b"h", timeout), Err(Died::Hung(timeout)));
    echo(&mut worker, 3);
}
