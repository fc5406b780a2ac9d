/**
 * Helpers the tests of every module above the api share, so that each is written once: {@link
 * dev.mmlab.testing.TestThread} for a call that must block, {@link dev.mmlab.testing.TestMms} for address spaces.
 * Depend on it at test scope.
 */
package dev.mmlab.testing;
