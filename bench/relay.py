"""The yardstick for the chat benchmark: a bare websocket relay, no Django, no database.

A plain `websockets` server that speaks just enough of the room protocol
(docs/realtime-protocol.md) for bench/chat_load.py to drive it exactly as it drives
RuangBK: a socket on /ws/sessions/<id>/room/ joins room <id> and gets a `hello`; when the
room's second socket arrives both get `presence`; a `chat.send` is acknowledged to its
sender (`chat.ack`, numbered per room) and forwarded to the other socket of the room as
`chat.message`. No sign-in, no storage, no channel layer, one process: the most this
machine can do for this traffic with Python websockets.

    .venv/bin/python bench/relay.py --port 8100
"""

import argparse
import asyncio
import contextlib
import json
import re
import signal

import websockets

ROOM_PATH = re.compile(r"^/ws/sessions/(\d+)/room/$")


class Relay:
    def __init__(self) -> None:
        self.rooms: dict[str, set] = {}
        self.numbers: dict[str, int] = {}

    async def serve(self, socket) -> None:
        match = ROOM_PATH.match(socket.request.path)
        if match is None:
            await socket.close(code=4404)
            return
        room = match.group(1)
        members = self.rooms.setdefault(room, set())
        others = list(members)
        members.add(socket)
        await socket.send(json.dumps({"type": "hello", "room": {"state": "open"}}))
        for other in others:
            await socket.send(json.dumps({"type": "presence", "online": True}))
            await other.send(json.dumps({"type": "presence", "online": True}))
        try:
            async for text in socket:
                frame = json.loads(text)
                if frame.get("type") != "chat.send":
                    continue
                number = self.numbers.get(room, 0) + 1
                self.numbers[room] = number
                await socket.send(
                    json.dumps(
                        {
                            "type": "chat.ack",
                            "client_id": frame["client_id"],
                            "id": number,
                            "duplicate": False,
                        }
                    )
                )
                message = json.dumps(
                    {
                        "type": "chat.message",
                        "id": number,
                        "client_id": frame["client_id"],
                        "mine": False,
                        "body": frame["body"],
                    },
                    ensure_ascii=False,
                )
                for other in members:
                    if other is not socket:
                        await other.send(message)
        except websockets.ConnectionClosed:
            pass
        finally:
            members.discard(socket)
            for other in members:
                await other.send(json.dumps({"type": "presence", "online": False}))
            if not members:
                self.rooms.pop(room, None)


async def main(host: str, port: int) -> None:
    relay = Relay()
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.cancel)
    async with websockets.serve(
        relay.serve, host, port, compression=None, max_queue=None, backlog=4096
    ):
        print(f"relay listening on {host}:{port}", flush=True)
        with contextlib.suppress(asyncio.CancelledError):
            await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.host, arguments.port))
