#!/usr/bin/env python3
"""A third-party Modbus door controller speaking profile `monban-door-v1`, on Modbus TCP
or (`--rtu`) Modbus RTU on a pseudo-terminal.

CONTRACT §6, written against pymodbus (not tokio-modbus, which the hub and our own
simulator both use), so the hub is proven against a Modbus stack it does not share code
with. The end-to-end tests (`tests/e2e/modbus.rs`) drive it; `scripts/test.sh` installs
the pinned pymodbus and pyserial (pymodbus' serial server needs it) into `target/pyenv`
and exports `MONBAN_TEST_PYTHON`.

With `--rtu` the peer creates a pty pair itself (`os.openpty()`), serves pymodbus' RTU
server on the master end and prints `ready <path of the slave end>`: the hub opens that
path as its serial port (`serial = "<path>"`), a real serial line as far as the hub can
tell (termios, 9600 8N1; the baud rate means nothing on a pty). Linux only.

Register map (unit `--unit`, default 1):

    discrete input 0          door contact (1 = open)
    discrete input 1          tamper switch (1 = active)
    input register 0          profile version, 1
    input register 1          sequence number of the newest event (u16, wraps)
    input registers 100+10k   event slot k = seq mod 32, ten registers:
        [0] seq  [1] kind  [2] direction (0 in, 1 out)  [3] credential type
        [4..8] credential id, big-endian u64  [8..10] time, big-endian u32 Unix seconds

Holding registers do not exist (exception 2, illegal address); coil requests answer
exception 1 (illegal function); other unit ids answer exception 4 (pymodbus' device
failure).

Protocol: one command per line on standard input; exactly one answer line per command on
standard output, `ok ...` or `error <why>`. Before the first command it prints
`ready <port>` once it is listening (`--port 0` picks a free port), with `--rtu`
`ready <pty path>` once it serves the pty. Standard input ending (the test process went
away) stops the program.

    badge <card-hex> [in|out] [unix_ts]   access_granted, credential type card
                                          -> ok seq=<n> ts=<unix_ts>
    denied <card-hex> [unix_ts]           access_denied, credential type card
    event <kind|code> [unix_ts]           a kind without credential (door_forced,
                                          tamper, ...); a number is written as the raw
                                          kind code, also one the profile does not define
    contact open|closed                   discrete input 0      -> ok contact=open
    tamper on|off                         discrete input 1      -> ok tamper=on
    burst <n>                             n door_closed events at once (n > 32 is an
                                          overrun for a client that polls slower)
                                          -> ok seq=<newest> ts=<unix_ts> count=<n>
    seq <n>                               set the newest sequence without writing a slot
    version <n>                           set input register 0 (1 is the profile)
    delay <ms>                            answer reads of event slots <ms> late (a slow
                                          link: the answer is what the ring held when
                                          the request came in) -> ok delay=<ms>
    poll [slots]                          answer once a read of the header (input
                                          register 1) that started after this command
                                          was served -> ok polled at_ms=<unix ms>;
                                          with `slots`, a read of event slots (answered
                                          as soon as its values are taken, before any
                                          `delay`)
    reset                                 clear the ring, sequence back to 0 (what a
                                          device restart does; use between stop and
                                          start) -> ok seq=0
    stop                                  close the listening socket and every
                                          connection (connection loss) -> ok stopped;
                                          with --rtu, close the pty (the hub's end
                                          hangs up and its path goes away)
    start                                 listen again on the same port -> ok started <port>;
                                          with --rtu, serve a new pty (a new path)
                                          -> ok started <pty path>
    quit                                  exit

Timestamps default to the wall clock. Commands run one at a time, in order.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import logging
import os
import sys
import threading
import time
import tty

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

PROFILE_VERSION = 1
RING_SLOTS = 32
SLOT_BASE = 100
SLOT_REGISTERS = 10
INPUT_REGISTERS = SLOT_BASE + RING_SLOTS * SLOT_REGISTERS  # 420

FC_READ_DISCRETE_INPUTS = 2
FC_READ_INPUT_REGISTERS = 4

KINDS = {
    "access_granted": 1,
    "access_denied": 2,
    "door_opened": 3,
    "door_closed": 4,
    "door_forced": 5,
    "door_held_open": 6,
    "tamper": 7,
}
CREDENTIAL_CARD = 1
POLL_TIMEOUT_S = 30.0


class CommandError(Exception):
    """A command that cannot be carried out; answered with `error <message>`."""


class Door:
    """The register map and the event ring. The pymodbus datastore is refreshed from it
    on every read (the SimDevice action), so a command takes effect for the next read."""

    def __init__(self) -> None:
        self.input = [0] * INPUT_REGISTERS
        self.input[0] = PROFILE_VERSION
        self.contact = False
        self.tamper = False
        self.poll_waiters: list[asyncio.Future] = []
        self.slot_waiters: list[asyncio.Future] = []
        self.slot_delay_s = 0.0

    def push(self, kind: int, direction: int, ctype: int, cred: int, ts: int) -> int:
        seq = (self.input[1] + 1) & 0xFFFF
        base = SLOT_BASE + SLOT_REGISTERS * (seq % RING_SLOTS)
        self.input[base : base + SLOT_REGISTERS] = [
            seq,
            kind,
            direction,
            ctype,
            (cred >> 48) & 0xFFFF,
            (cred >> 32) & 0xFFFF,
            (cred >> 16) & 0xFFFF,
            cred & 0xFFFF,
            (ts >> 16) & 0xFFFF,
            ts & 0xFFFF,
        ]
        self.input[1] = seq
        return seq

    async def action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values,
    ):
        """Called by pymodbus before it answers a request from `registers`."""
        if function_code == FC_READ_INPUT_REGISTERS:
            for a in range(address, min(address + count, INPUT_REGISTERS)):
                registers[a - start_address] = self.input[a]
            if address <= 1 < address + count:
                self.poll_waiters = wake(self.poll_waiters)
            if address + count > SLOT_BASE:
                self.slot_waiters = wake(self.slot_waiters)
                if self.slot_delay_s > 0:
                    await asyncio.sleep(self.slot_delay_s)
        elif function_code == FC_READ_DISCRETE_INPUTS:
            # The bit block starts at input 0: contact and tamper are bits 0 and 1 of
            # its first word.
            registers[0] = int(self.contact) | (int(self.tamper) << 1)
        else:
            return ExcCodes.ILLEGAL_FUNCTION
        return None

    def device(self, unit: int) -> SimDevice:
        return SimDevice(
            id=unit,
            # (coils, discrete inputs, holding registers, input registers)
            simdata=(
                # pymodbus needs a bit block here; the action refuses coil requests.
                [SimData(0, values=[False] * 16, datatype=DataType.BITS)],
                [SimData(0, values=[False] * 16, datatype=DataType.BITS)],
                [SimData(0, count=1, datatype=DataType.INVALID)],
                [SimData(0, count=INPUT_REGISTERS, values=0, datatype=DataType.REGISTERS)],
            ),
            action=self.action,
        )


def wake(waiters: list[asyncio.Future]) -> list[asyncio.Future]:
    """Answers every waiter with the time now in Unix ms; returns the empty list."""
    at_ms = int(time.time() * 1000)
    for w in waiters:
        if not w.done():
            w.set_result(at_ms)
    return []


def card_number(text: str) -> int:
    try:
        value = int(text, 16)
    except ValueError:
        raise CommandError(f"credential id {text!r} is not hexadecimal") from None
    if not 0 <= value < 1 << 64:
        raise CommandError(f"credential id {text!r} does not fit in a u64")
    return value


def unix_ts(words: list[str], at: int) -> int:
    if len(words) <= at:
        return int(time.time())
    try:
        value = int(words[at])
    except ValueError:
        raise CommandError(f"time {words[at]!r} is not Unix seconds") from None
    if not 0 <= value < 1 << 32:
        raise CommandError(f"time {value} does not fit in a u32")
    return value


def number(text: str, what: str, limit: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CommandError(f"{what} {text!r} is not a number") from None
    if not 0 <= value < limit:
        raise CommandError(f"{what} {value} is out of range 0..{limit - 1}")
    return value


# ---------------------------------------------------------------- RTU on a pty

PTY_MASTER_URL = "pty-master://"
"""pyserial URLs this peer answers itself: `pty-master://<slave path>` is the master end
of a pty this process opened (a pty master has no path pyserial could open)."""

PTY_MASTERS: dict[str, int] = {}
"""Slave path -> master fd of the ptys this peer serves."""


def pty_serial_class():
    """pyserial's Serial on an open pty master fd (imported here: TCP mode runs without
    pyserial)."""
    import serial

    class PtyMasterSerial(serial.Serial):
        def __init__(self, master_fd: int, **kwargs) -> None:
            self.master_fd = master_fd
            super().__init__(**kwargs)  # no port: not opened yet

        def open(self) -> None:
            # PosixSerial.open, on a duplicate of the master instead of a path.
            self.fd = os.dup(self.master_fd)
            os.set_blocking(self.fd, False)
            self.pipe_abort_read_r, self.pipe_abort_read_w = os.pipe()
            self.pipe_abort_write_r, self.pipe_abort_write_w = os.pipe()
            fcntl.fcntl(self.pipe_abort_read_r, fcntl.F_SETFL, os.O_NONBLOCK)
            fcntl.fcntl(self.pipe_abort_write_r, fcntl.F_SETFL, os.O_NONBLOCK)
            self._reconfigure_port(force_update=True)
            self.is_open = True

    return serial, PtyMasterSerial


def install_pty_urls() -> None:
    """Makes `serial.serial_for_url` (which pymodbus' serial transport calls) open
    `pty-master://` URLs on the pty masters of this peer."""
    serial, pty_master_serial = pty_serial_class()
    original = serial.serial_for_url

    def serial_for_url(url, *args, **kwargs):
        if isinstance(url, str) and url.startswith(PTY_MASTER_URL):
            fd = PTY_MASTERS.get(url[len(PTY_MASTER_URL) :])
            if fd is None:
                raise serial.SerialException(f"{url}: no such pty in this peer")
            kwargs.pop("do_not_open", None)
            kwargs.pop("exclusive", None)
            port = pty_master_serial(fd, **kwargs)
            port.open()
            return port
        return original(url, *args, **kwargs)

    serial.serial_for_url = serial_for_url


class Pty:
    """A pty pair: the master end is served, the slave end's path is the hub's serial
    port. The slave fd stays open here too: the master does not see a hangup while the
    hub reconnects, and after `close` the pty's number is not handed to another pty
    (the kernel frees it only when every fd is closed) while the hub still retries
    the path; it is closed when the program ends."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        PTY_MASTERS[self.path] = self.master

    def close(self) -> None:
        """Closes the master end: the hub's end hangs up and the path goes away."""
        PTY_MASTERS.pop(self.path, None)
        os.close(self.master)


class Peer:
    def __init__(self, host: str, port: int, unit: int, rtu: bool = False) -> None:
        self.host = host
        self.port = port
        self.unit = unit
        self.rtu = rtu
        self.pty: Pty | None = None
        self.door = Door()
        self.server: ModbusTcpServer | ModbusSerialServer | None = None

    async def start(self) -> int | str:
        if self.rtu:
            return await self.start_rtu()
        if self.server is not None:
            return self.port
        server = ModbusTcpServer(
            self.door.device(self.unit), address=(self.host, self.port)
        )
        # The old socket of a `stop` may linger briefly; retry the bind for 5 s.
        deadline = time.monotonic() + 5.0
        while True:
            try:
                await server.serve_forever(background=True)
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise CommandError(f"cannot listen on {self.host}:{self.port}")
                server = ModbusTcpServer(
                    self.door.device(self.unit), address=(self.host, self.port)
                )
                await asyncio.sleep(0.05)
        self.server = server
        self.port = server.transport.sockets[0].getsockname()[1]
        return self.port

    async def start_rtu(self) -> str:
        if self.server is not None and self.pty is not None:
            return self.pty.path
        pty = Pty()
        server = ModbusSerialServer(
            self.door.device(self.unit),
            framer=FramerType.RTU,
            port=PTY_MASTER_URL + pty.path,
            baudrate=9600,
            bytesize=8,
            parity="N",
            stopbits=1,
        )
        try:
            await server.serve_forever(background=True)
        except Exception as e:
            pty.close()
            raise CommandError(f"cannot serve Modbus RTU on {pty.path}: {e}") from None
        self.server = server
        self.pty = pty
        return pty.path

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.shutdown()
            self.server = None
        if self.pty is not None:
            self.pty.close()
            self.pty = None

    async def command(self, line: str) -> str | None:
        """Carries out one line; the answer, or None for a blank line."""
        words = line.split("#", 1)[0].split()
        if not words:
            return None
        verb, args = words[0], words[1:]
        door = self.door
        if verb == "badge":
            if not 1 <= len(args) <= 3:
                raise CommandError("usage: badge <card-hex> [in|out] [unix_ts]")
            cred = card_number(args[0])
            direction = args[1] if len(args) > 1 else "in"
            if direction not in ("in", "out"):
                raise CommandError(f"direction {direction!r} is not in or out")
            ts = unix_ts(args, 2)
            seq = door.push(
                KINDS["access_granted"], int(direction == "out"), CREDENTIAL_CARD, cred, ts
            )
            return f"ok seq={seq} ts={ts}"
        if verb == "denied":
            if not 1 <= len(args) <= 2:
                raise CommandError("usage: denied <card-hex> [unix_ts]")
            ts = unix_ts(args, 1)
            seq = door.push(
                KINDS["access_denied"], 0, CREDENTIAL_CARD, card_number(args[0]), ts
            )
            return f"ok seq={seq} ts={ts}"
        if verb == "event":
            if not 1 <= len(args) <= 2:
                raise CommandError("usage: event <kind|code> [unix_ts]")
            if args[0] in KINDS:
                kind = KINDS[args[0]]
            elif args[0].isdigit():
                kind = number(args[0], "kind code", 1 << 16)
            else:
                raise CommandError(
                    f"unknown kind {args[0]!r}; one of {', '.join(KINDS)} or a number"
                )
            ts = unix_ts(args, 1)
            seq = door.push(kind, 0, 0, 0, ts)
            return f"ok seq={seq} ts={ts}"
        if verb == "contact":
            if args not in (["open"], ["closed"]):
                raise CommandError("usage: contact open|closed")
            door.contact = args[0] == "open"
            return f"ok contact={args[0]}"
        if verb == "tamper":
            if args not in (["on"], ["off"]):
                raise CommandError("usage: tamper on|off")
            door.tamper = args[0] == "on"
            return f"ok tamper={args[0]}"
        if verb == "burst":
            if len(args) != 1:
                raise CommandError("usage: burst <n>")
            n = number(args[0], "count", 1 << 16)
            ts = int(time.time())
            seq = door.input[1]
            for _ in range(n):
                seq = door.push(KINDS["door_closed"], 0, 0, 0, ts)
            return f"ok seq={seq} ts={ts} count={n}"
        if verb == "seq":
            if len(args) != 1:
                raise CommandError("usage: seq <n>")
            door.input[1] = number(args[0], "sequence", 1 << 16)
            return f"ok seq={door.input[1]}"
        if verb == "reset":
            if args:
                raise CommandError("usage: reset")
            version = door.input[0]
            door.input = [0] * INPUT_REGISTERS
            door.input[0] = version
            return "ok seq=0"
        if verb == "version":
            if len(args) != 1:
                raise CommandError("usage: version <n>")
            door.input[0] = number(args[0], "version", 1 << 16)
            return f"ok version={door.input[0]}"
        if verb == "delay":
            if len(args) != 1:
                raise CommandError("usage: delay <ms>")
            self.door.slot_delay_s = number(args[0], "delay", 60_000) / 1000
            return f"ok delay={args[0]}"
        if verb == "poll":
            if args not in ([], ["slots"]):
                raise CommandError("usage: poll [slots]")
            waiter = asyncio.get_running_loop().create_future()
            (door.slot_waiters if args else door.poll_waiters).append(waiter)
            try:
                at_ms = await asyncio.wait_for(waiter, POLL_TIMEOUT_S)
            except asyncio.TimeoutError:
                raise CommandError(f"no poll within {POLL_TIMEOUT_S:.0f} s") from None
            return f"ok polled at_ms={at_ms}"
        if verb == "stop":
            await self.stop()
            return "ok stopped"
        if verb == "start":
            return f"ok started {await self.start()}"
        raise CommandError(
            f"unknown command {verb!r}; expected badge, denied, event, contact, tamper, "
            "burst, seq, reset, version, delay, poll, stop, start or quit"
        )


def stdin_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue:
    """Standard input, line by line, None at its end. A thread, not connect_read_pipe:
    that refuses regular files (`< script.txt`)."""
    queue: asyncio.Queue = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, daemon=True).start()
    return queue


def say(text: str) -> None:
    print(text, flush=True)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--unit", type=int, default=1, help="Modbus unit id")
    parser.add_argument(
        "--rtu",
        action="store_true",
        help="Modbus RTU on a pty this peer creates (prints `ready <pty path>`)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.rtu:
        try:
            install_pty_urls()
        except ImportError:
            print("error: --rtu needs pyserial (pip install pyserial)", file=sys.stderr)
            return 1

    peer = Peer(args.host, args.port, args.unit, rtu=args.rtu)
    try:
        port = await peer.start()
    except CommandError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    say(f"ready {port}")
    lines = stdin_lines(asyncio.get_running_loop())
    while (line := await lines.get()) is not None:
        if line.split("#", 1)[0].split()[:1] == ["quit"]:
            break
        try:
            answer = await peer.command(line)
        except CommandError as e:
            answer = f"error {e}"
        if answer is not None:
            say(answer)
    await peer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
