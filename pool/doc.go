// Package pool lends reusable resources (connections, clients, buffers) to
// concurrent callers, and keeps track of every loan: who holds it, where it
// was acquired, for how long, and whether it came back.
package pool
