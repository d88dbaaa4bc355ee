// The trtcd demo page: the client SDK served by trtcd itself.
import { PROTOCOL_VERSION } from '/sdk/trtcd.js';

document.getElementById('status').textContent = `SDK loaded (protocol v${PROTOCOL_VERSION})`;
