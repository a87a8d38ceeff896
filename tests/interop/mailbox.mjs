// Where interop mail arrives: a minimal SMTP sink on `port` (genvid delivers through SMTP_URL) and an HTTP hook
// on `port + 1` (the better-auth server's send callbacks POST {to, text} there; see server.mjs).
import http from "node:http";
import net from "node:net";

export class Mailbox {
  constructor() {
    this.messages = [];
    this.servers = [];
  }

  static async start(port) {
    const box = new Mailbox();
    if (!port) return box;
    box.servers.push(await listen(net.createServer((socket) => box.smtp(socket)), port));
    box.servers.push(await listen(http.createServer((req, res) => box.hook(req, res)), port + 1));
    return box;
  }

  smtp(socket) {
    let to = [];
    let data = null;
    let buffer = "";
    socket.write("220 mailbox ESMTP\r\n");
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      let cut;
      while ((cut = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (data !== null) {
          if (line === ".") {
            this.messages.push({ to, text: decodeBody(data.join("\n")) });
            data = null;
            to = [];
            socket.write("250 OK\r\n");
          } else data.push(line.startsWith("..") ? line.slice(1) : line);
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO" || verb === "HELO") socket.write("250 mailbox\r\n");
        else if (verb === "RCPT") { to.push(line.replace(/^.*<(.*)>.*$/, "$1").toLowerCase()); socket.write("250 OK\r\n"); }
        else if (verb === "DATA") { data = []; socket.write("354 go ahead\r\n"); }
        else if (verb === "QUIT") { socket.end("221 bye\r\n"); }
        else socket.write("250 OK\r\n");
      }
    });
    socket.on("error", () => {});
  }

  hook(req, res) {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const { to, text } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      this.messages.push({ to: [to.toLowerCase()], text });
      res.end("{}");
    });
  }

  /** The first URL in the next message to one of `recipients` (waits up to 3 s), or null. */
  async link(...recipients) {
    for (let i = 0; i < 60; i++) {
      const index = this.messages.findIndex((m) => m.to.some((t) => recipients.includes(t)));
      if (index >= 0) {
        const [message] = this.messages.splice(index, 1);
        const match = message.text.match(/https?:\/\/[^\s"<>]+/);
        return match ? match[0] : null;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return null;
  }

  close() {
    for (const server of this.servers) server.close();
  }
}

/** The body of a MIME message, undoing quoted-printable when the message says it is used. */
function decodeBody(message) {
  const cut = message.indexOf("\n\n");
  const head = message.slice(0, cut);
  const body = message.slice(cut + 2);
  if (!/content-transfer-encoding:\s*quoted-printable/i.test(head)) return body;
  const bytes = body.replace(/=\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
