package io.keyrelay.queue;

/**
 * Who handed a message to the queue: the API key (id and the first four characters; null for keyrelay's own
 * bounces), its subaccount (null for none), the client's address and the node that accepted it.
 */
public record Origin(String keyId, String shortKey, Long subaccountId, String clientAddress, String node) {}
