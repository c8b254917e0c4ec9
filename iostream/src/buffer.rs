//! The stream's read buffer and write queue.

use std::collections::VecDeque;
use std::io::IoSlice;

/// The first allocation of a read buffer.
const INITIAL_READ_CAPACITY: usize = 16 * 1024;

/// An empty buffer larger than this is freed rather than kept, so idle connections hold no big
/// allocations.
const KEEP_IDLE_CAPACITY: usize = 64 * 1024;

/// How many released read buffers a thread keeps for reuse.
const POOL_LIMIT: usize = 256;

thread_local! {
    /// Released read buffers of `INITIAL_READ_CAPACITY` bytes, for the next connection that
    /// needs one: idle connections hold no buffer, yet a busy loop does not allocate per read.
    static POOL: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A zeroed buffer of `INITIAL_READ_CAPACITY` bytes, from the pool if it has one.
fn pooled_buffer() -> Vec<u8> {
    POOL.try_with(|pool| pool.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_else(|| vec![0; INITIAL_READ_CAPACITY])
}

/// How many released write chunks a thread keeps for reuse.
const CHUNK_POOL_LIMIT: usize = 64;

thread_local! {
    /// Empty write chunks of idle connections (at most `COALESCE_LIMIT` bytes of capacity
    /// each), for the next write of any connection of the thread: an idle connection holds no
    /// write chunk, yet a busy one takes one without allocating.
    static CHUNK_POOL: std::cell::RefCell<Vec<Vec<u8>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// An empty chunk from the pool, if it has one.
fn pooled_chunk() -> Option<Vec<u8>> {
    CHUNK_POOL
        .try_with(|pool| pool.borrow_mut().pop())
        .ok()
        .flatten()
}

/// Gives an empty chunk back to the pool (dropped if it is large or the pool is full).
fn return_chunk(chunk: Vec<u8>) {
    if chunk.capacity() <= COALESCE_LIMIT {
        let _ = CHUNK_POOL.try_with(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() < CHUNK_POOL_LIMIT {
                pool.push(chunk);
            }
        });
    }
}

/// Gives a buffer back to the pool (if it has the pooled size and the pool has room).
fn return_buffer(buf: Vec<u8>) {
    if buf.len() == INITIAL_READ_CAPACITY {
        let _ = POOL.try_with(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() < POOL_LIMIT {
                pool.push(buf);
            }
        });
    }
}

/// Bytes read from the socket and not yet consumed.
///
/// Data lives in `buf[start..end]`. Consuming only moves `start`; the bytes are moved to the
/// front (compaction) only when a read needs room at the end, so reads never shift the buffer
/// per call. The allocation is reused across reads.
#[derive(Debug, Default)]
pub(crate) struct ReadBuffer {
    /// Storage; always fully initialised (`len() == capacity` in use), so reads go straight in.
    buf: Vec<u8>,
    /// Start of unconsumed data.
    start: usize,
    /// End of unconsumed data.
    end: usize,
}

/// A closed connection's storage goes back to the thread's pool, as an idle one's does: a
/// client that opens a connection per request (`ab` without `-k`) then costs no 16 KiB
/// allocation (and page faults) per connection.
impl Drop for ReadBuffer {
    fn drop(&mut self) {
        return_buffer(std::mem::take(&mut self.buf));
    }
}

impl ReadBuffer {
    /// The unconsumed bytes.
    pub(crate) fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// How many unconsumed bytes there are.
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    #[cfg(any(feature = "tls", test))]
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Drops `n` bytes from the front.
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.len());
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > KEEP_IDLE_CAPACITY {
                self.buf = Vec::new();
            }
        }
    }

    /// Removes and returns the first `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.len());
        let out = self.buf[self.start..self.start + n].to_vec();
        self.consume(n);
        out
    }

    /// Gives the storage back to the thread's pool if no data is buffered (an idle connection
    /// keeps no allocation; the next read takes a pooled buffer).
    pub(crate) fn release(&mut self) {
        if self.start == self.end {
            return_buffer(std::mem::take(&mut self.buf));
            self.start = 0;
            self.end = 0;
        }
    }

    /// Room at the end to read into, compacting or growing as needed but never past `limit`
    /// bytes of storage. Empty if the buffer holds `limit` bytes already.
    pub(crate) fn spare(&mut self, limit: usize) -> &mut [u8] {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                if self.buf.is_empty() && limit >= INITIAL_READ_CAPACITY {
                    self.buf = pooled_buffer();
                } else {
                    let grown = if self.buf.is_empty() {
                        INITIAL_READ_CAPACITY
                    } else {
                        self.buf.len() * 2
                    };
                    let grown = grown.min(limit.max(self.end));
                    self.buf.resize(grown, 0);
                }
            }
        }
        &mut self.buf[self.end..]
    }

    /// Marks `n` bytes written into [`ReadBuffer::spare`] as data.
    pub(crate) fn commit(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }
}

/// Small writes are appended to the last queued chunk up to this size, so many tiny writes
/// become one `writev` entry; larger writes keep their own chunk.
const COALESCE_LIMIT: usize = 16 * 1024;

/// How many chunks one `writev` takes.
pub(crate) const MAX_IOVECS: usize = 64;

/// Bytes queued for writing.
#[derive(Debug, Default)]
pub(crate) struct WriteQueue {
    /// Chunks in order.
    chunks: VecDeque<Vec<u8>>,
    /// Bytes of the front chunk already written.
    offset: usize,
    /// Total unwritten bytes.
    len: usize,
    /// A written-out chunk kept for the next write, so a connection that writes one response at
    /// a time allocates nothing per response.
    spare: Option<Vec<u8>>,
}

impl WriteQueue {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues a copy of `data`.
    pub(crate) fn push_slice(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.len += data.len();
        if let Some(last) = self.chunks.back_mut()
            && last.len() + data.len() <= COALESCE_LIMIT
        {
            last.extend_from_slice(data);
            return;
        }
        match self.spare.take().or_else(pooled_chunk) {
            Some(mut chunk) if data.len() <= COALESCE_LIMIT => {
                chunk.extend_from_slice(data);
                self.chunks.push_back(chunk);
            }
            _ => self.chunks.push_back(data.to_vec()),
        }
    }

    /// Queues `data` without copying.
    pub(crate) fn push_vec(&mut self, data: Vec<u8>) {
        if data.is_empty() {
            return;
        }
        if data.len() <= COALESCE_LIMIT / 4 {
            self.push_slice(&data);
            return;
        }
        self.len += data.len();
        self.chunks.push_back(data);
    }

    /// Fills `slices` with the unwritten chunks; returns how many.
    pub(crate) fn io_slices<'a>(&'a self, slices: &mut [IoSlice<'a>; MAX_IOVECS]) -> usize {
        let mut count = 0;
        for (i, chunk) in self.chunks.iter().take(MAX_IOVECS).enumerate() {
            let chunk = if i == 0 {
                &chunk[self.offset..]
            } else {
                &chunk[..]
            };
            slices[count] = IoSlice::new(chunk);
            count += 1;
        }
        count
    }

    /// Marks `n` bytes as written.
    pub(crate) fn advance(&mut self, mut n: usize) {
        self.len -= n.min(self.len);
        while n > 0 {
            let Some(front) = self.chunks.front() else {
                break;
            };
            let remaining = front.len() - self.offset;
            if n >= remaining {
                n -= remaining;
                self.offset = 0;
                if let Some(mut chunk) = self.chunks.pop_front()
                    && chunk.capacity() <= 4 * COALESCE_LIMIT
                {
                    chunk.clear();
                    self.spare = Some(chunk);
                }
            } else {
                self.offset += n;
                n = 0;
            }
        }
    }

    /// Drops everything queued.
    pub(crate) fn clear(&mut self) {
        self.chunks.clear();
        self.offset = 0;
        self.len = 0;
    }

    /// Gives the spare chunk back to the thread's pool (an idle connection holds none; the next
    /// write takes one from the pool without allocating) and frees the chunk list if it grew;
    /// a small list stays, so a keep-alive connection does not allocate per response. With
    /// `all`, a small list goes too.
    pub(crate) fn release(&mut self, all: bool) {
        let keep_chunks = if all { 0 } else { 4 };
        if let Some(spare) = self.spare.take() {
            return_chunk(spare);
        }
        if self.chunks.is_empty() && self.chunks.capacity() > keep_chunks {
            self.chunks = VecDeque::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_buffer_compacts_only_when_full() {
        let mut buf = ReadBuffer::default();
        let spare = buf.spare(1 << 20);
        assert_eq!(spare.len(), INITIAL_READ_CAPACITY);
        spare[..5].copy_from_slice(b"hello");
        buf.commit(5);
        assert_eq!(buf.take(2), b"he");
        assert_eq!(buf.data(), b"llo");
        // Room remains at the end: no move.
        assert_eq!(buf.spare(1 << 20).len(), INITIAL_READ_CAPACITY - 5);
        buf.commit(INITIAL_READ_CAPACITY - 5);
        assert_eq!(buf.len(), INITIAL_READ_CAPACITY - 2);
        // Full at the end with 2 consumed bytes at the front: compaction frees exactly those.
        assert_eq!(buf.spare(1 << 20).len(), 2);
        assert_eq!(&buf.data()[..3], b"llo");
    }

    #[test]
    fn read_buffer_grows_to_limit_and_no_further() {
        let mut buf = ReadBuffer::default();
        let limit = INITIAL_READ_CAPACITY * 3;
        let mut total = 0;
        loop {
            let n = buf.spare(limit).len();
            if n == 0 {
                break;
            }
            buf.commit(n);
            total += n;
        }
        assert_eq!(total, limit);
        assert_eq!(buf.len(), limit);
        buf.consume(limit);
        assert!(buf.is_empty());
    }

    fn slices_of(queue: &WriteQueue) -> Vec<Vec<u8>> {
        let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
        let n = queue.io_slices(&mut slices);
        slices[..n].iter().map(|s| s.to_vec()).collect()
    }

    #[test]
    fn write_queue_coalesces_and_advances() {
        let mut queue = WriteQueue::default();
        queue.push_slice(b"ab");
        queue.push_slice(b"cd");
        queue.push_vec(vec![b'x'; COALESCE_LIMIT]);
        queue.push_slice(b"ef");
        assert_eq!(queue.len(), 6 + COALESCE_LIMIT);
        let first: Vec<Vec<u8>> = slices_of(&queue);
        assert_eq!(first.len(), 3);
        assert_eq!(first[0], b"abcd");
        queue.advance(3);
        let second = slices_of(&queue);
        assert_eq!(second[0], b"d");
        assert_eq!(second.len(), 3);
        queue.advance(1 + COALESCE_LIMIT);
        let third = slices_of(&queue);
        assert_eq!(third, vec![b"ef".to_vec()]);
        queue.advance(2);
        assert!(queue.is_empty());
    }

    #[test]
    fn an_idle_queue_gives_its_chunk_to_the_pool_and_a_busy_one_takes_it_back() {
        // The pool is per thread: this test's thread starts with an empty one.
        let mut idle = WriteQueue::default();
        idle.push_slice(b"a response");
        idle.advance(10);
        let chunk = idle
            .spare
            .as_ref()
            .map(|c| c.as_ptr())
            .expect("a spare chunk");
        idle.release(false);
        assert!(idle.spare.is_none(), "an idle queue holds no chunk");
        let mut busy = WriteQueue::default();
        busy.push_slice(b"the next one");
        assert_eq!(
            slices_of(&busy)[0].as_slice(),
            b"the next one",
            "written into the pooled chunk"
        );
        assert_eq!(busy.chunks[0].as_ptr(), chunk, "no new allocation");
        // A chunk over the coalescing size is freed, not pooled.
        let mut big = WriteQueue {
            spare: Some(Vec::with_capacity(COALESCE_LIMIT + 1)),
            ..WriteQueue::default()
        };
        big.release(false);
        assert!(pooled_chunk().is_none());
    }
}
