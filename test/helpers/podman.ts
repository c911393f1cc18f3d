/**
 * Test bed: real podman containers and podman's Docker-compatible API service in a private
 * temp dir. The implementation is the product's sandbox (src/sandbox/podman.ts, also used
 * by the demo); tests know it as PodmanTestBed.
 */
export { PodmanSandbox as PodmanTestBed, uniqueContainerName, type PodmanContainer } from '../../src/sandbox/podman.js';
