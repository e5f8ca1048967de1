/**
 * Devices written on the public KMCL API the way VMBus drivers are written:
 * the Hyper-V integration components first.
 */
export * from './ic/index.js';
