package io.keyrelay.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyrelay.dkim.SigningAlgorithm;
import io.keyrelay.dkim.SigningKey;
import io.keyrelay.dkim.DkimSigner;
import io.keyrelay.dkim.MessageScan;
import io.keyrelay.testing.Dkimpy;
import io.keyrelay.testing.Dnsmasq;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DKIM signer fed the way the relay feeds it: SMTP DATA as it comes off the wire, dot-stuffed and ended by
 * {@code CRLF.CRLF}, read through {@link DataStream}, with the signature checked by dkimpy (keys from a real
 * dnsmasq). The signature must cover the unstuffed message — what the recipient's system stores and verifies.
 */
class DataStreamSigningIT {
    @TempDir
    Path dir;

    @Test
    void dotStuffedWireData_isSignedAsTheUnstuffedMessage() throws Exception {
        KeyPair rsa = SigningAlgorithm.RSA_SHA256.generateKeyPair(2048);
        String message = "From: a@example.com\r\nSubject: dots\r\n\r\n.\r\n..two\r\n.one\r\nend\r\n";
        String wire = "From: a@example.com\r\nSubject: dots\r\n\r\n..\r\n...two\r\n..one\r\nend\r\n.\r\nQUIT\r\n";
        BufferedInputStream socket = new BufferedInputStream(new ByteArrayInputStream(
                wire.getBytes(StandardCharsets.US_ASCII)));
        ByteArrayOutputStream relayed = new ByteArrayOutputStream();
        MessageScan scan = new MessageScan(1 << 20, relayed);
        new DataStream(socket, 1 << 20).transferTo(scan);
        scan.finish();
        assertThat(relayed.toString(StandardCharsets.US_ASCII)).isEqualTo(message);
        assertThat(new String(socket.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("QUIT\r\n");

        DkimSigner signer = DkimSigner.preferred(Clock.systemUTC());
        byte[] fields = signer.sign(scan, List.of(signer.importKey(new SigningKey("example.com", "s1", rsa.getPrivate()))));
        Path delivered = dir.resolve("delivered.eml");
        Files.write(delivered, (new String(fields, StandardCharsets.US_ASCII) + message).getBytes(StandardCharsets.US_ASCII));
        Path stuffedCopy = dir.resolve("stuffed.eml");
        Files.write(stuffedCopy, (new String(fields, StandardCharsets.US_ASCII)
                + wire.substring(0, wire.indexOf("\r\n.\r\n") + 2)).getBytes(StandardCharsets.US_ASCII));
        try (Dnsmasq dns = Dnsmasq.start(dir.resolve("dns"),
                Map.of("s1._domainkey.example.com", SigningAlgorithm.RSA_SHA256.dnsRecord(rsa.getPublic())))) {
            Dkimpy.Verdict v = Dkimpy.verify(dns.port(), delivered);
            assertThat(v.verified()).as(v.output()).isTrue();
            assertThat(Dkimpy.verify(dns.port(), stuffedCopy).verified()).as("the still-stuffed bytes are not what was signed")
                    .isFalse();
        }
    }
}
