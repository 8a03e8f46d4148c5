package io.keyrelay.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A server key manager whose certificate and key can be replaced while it serves: one {@code SSLContext} built on
 * it hands every new handshake the identity current at that moment, so a renewed certificate needs no restart and
 * no new listener.
 *
 * <p>A handshake asks for an alias first and for the key and chain of that alias afterwards; a swap may fall in
 * between. Aliases are therefore tagged with the generation they came from, and the previous generation is kept,
 * so a handshake always gets the key and chain of one and the same certificate.
 */
final class ReloadingKeyManager extends X509ExtendedKeyManager {
    private record Generation(int id, X509ExtendedKeyManager keys) {}

    private volatile Generation current;
    private volatile Generation previous;

    ReloadingKeyManager(X509ExtendedKeyManager initial) {
        this.current = new Generation(0, initial);
    }

    /** Serves {@code next} from the next handshake on. */
    synchronized void replace(X509ExtendedKeyManager next) {
        Generation now = current;
        previous = now;
        current = new Generation(now.id() + 1, next);
    }

    private static String tag(Generation g, String alias) {
        return alias == null ? null : g.id() + ":" + alias;
    }

    /** The generation and the delegate's own alias behind a tagged alias; null when it is neither of the two kept. */
    private Generation generation(String tagged) {
        int colon = tagged == null ? -1 : tagged.indexOf(':');
        if (colon < 0) {
            return null;
        }
        String id = tagged.substring(0, colon);
        Generation c = current;
        if (id.equals(Integer.toString(c.id()))) {
            return c;
        }
        Generation p = previous;
        return p != null && id.equals(Integer.toString(p.id())) ? p : null;
    }

    private static String untag(String tagged) {
        return tagged.substring(tagged.indexOf(':') + 1);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        Generation g = current;
        return tag(g, g.keys().chooseServerAlias(keyType, issuers, socket));
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        Generation g = current;
        return tag(g, g.keys().chooseEngineServerAlias(keyType, issuers, engine));
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        Generation g = current;
        String[] aliases = g.keys().getServerAliases(keyType, issuers);
        if (aliases == null) {
            return null;
        }
        String[] tagged = new String[aliases.length];
        for (int i = 0; i < aliases.length; i++) {
            tagged[i] = tag(g, aliases[i]);
        }
        return tagged;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Generation g = generation(alias);
        return g == null ? null : g.keys().getCertificateChain(untag(alias));
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Generation g = generation(alias);
        return g == null ? null : g.keys().getPrivateKey(untag(alias));
    }

    // A server presents no client certificate.

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return null;
    }
}
