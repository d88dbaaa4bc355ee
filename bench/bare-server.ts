// Baseline for the REST benchmark: a bare node:http server that reads the body and answers a JSON body of the
// same size as trtcd's reply, so the ratio isolates what trtcd adds (routing, auth, validation, store, metrics).
import { createServer } from 'node:http';

const size = Number(process.argv[2] ?? 200);
const body = JSON.stringify({ ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0, pad: '' }).slice(0, -2);
const reply = `${body}${'x'.repeat(Math.max(0, size - body.length - 2))}"}`;

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(reply) });
    res.end(reply);
  });
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
