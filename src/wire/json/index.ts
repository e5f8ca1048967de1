export { u64ToJson, u64FromJson, bytesToHex, hexToBytes, bytesFromJson, wireToJson } from './json-values.js';
export { messageToJson, messageFromJson } from './message-json.js';
export { packetToJson, packetFromJson } from './packet-json.js';
