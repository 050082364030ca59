using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Messenger.Tests.Support.Push;

/// <summary>
/// The user agent's side of RFC 8291: opens an <c>aes128gcm</c> body (RFC 8188) with the subscription's
/// private key and auth secret. Anything malformed or not authentic is a 400 <see cref="Rejection"/>.
/// </summary>
internal static class WebPushDecryption
{
    private const int SaltLength = 16;
    private const int HeaderLength = SaltLength + 4 + 1;
    private const int PointLength = 65;
    private const int TagLength = 16;
    private static readonly byte[] KeyInfoPrefix = Encoding.ASCII.GetBytes("WebPush: info\0");
    private static readonly byte[] CekInfo = Encoding.ASCII.GetBytes("Content-Encoding: aes128gcm\0");
    private static readonly byte[] NonceInfo = Encoding.ASCII.GetBytes("Content-Encoding: nonce\0");

    public static byte[] Decrypt(ReadOnlySpan<byte> body, ECDiffieHellman userAgentKey, byte[] userAgentPublic, byte[] authSecret)
    {
        if (body.Length < HeaderLength) throw BadRequest($"body of {body.Length} bytes is shorter than the aes128gcm header");
        var salt = body[..SaltLength];
        var recordSize = BinaryPrimitives.ReadUInt32BigEndian(body[SaltLength..]);
        int idLength = body[SaltLength + 4];
        // RFC 8188: a record must hold the tag and a padding delimiter at least.
        if (recordSize < TagLength + 2) throw BadRequest($"record size {recordSize} is below the minimum of 18");
        // RFC 8291 section 4: the key id is the sender's ephemeral public key.
        if (idLength != PointLength) throw BadRequest($"keyid is {idLength} bytes, not a 65-byte P-256 point");
        if (body.Length < HeaderLength + idLength) throw BadRequest("body ends inside the keyid");
        var senderPublic = body.Slice(HeaderLength, idLength).ToArray();
        var ciphertext = body[(HeaderLength + idLength)..];
        if (ciphertext.Length < TagLength + 1) throw BadRequest($"record of {ciphertext.Length} bytes cannot hold a tag and a delimiter");
        // RFC 8291 section 4: one record only, so it must fit in the record size it declares.
        if (ciphertext.Length > recordSize) throw BadRequest($"content of {ciphertext.Length} bytes is more than one record of {recordSize}");

        byte[] sharedSecret;
        using (var senderKey = ImportPoint(senderPublic))
        {
            sharedSecret = userAgentKey.DeriveRawSecretAgreement(senderKey.PublicKey);
        }
        var keyInfo = (byte[])[.. KeyInfoPrefix, .. userAgentPublic, .. senderPublic];
        var ikm = HKDF.DeriveKey(HashAlgorithmName.SHA256, sharedSecret, 32, authSecret, keyInfo);
        var prk = HKDF.Extract(HashAlgorithmName.SHA256, ikm, salt.ToArray());
        var cek = HKDF.Expand(HashAlgorithmName.SHA256, prk, 16, CekInfo);
        // The only record is record 0, whose nonce is the derived nonce unchanged.
        var nonce = HKDF.Expand(HashAlgorithmName.SHA256, prk, 12, NonceInfo);

        var padded = new byte[ciphertext.Length - TagLength];
        try
        {
            using var aes = new AesGcm(cek, TagLength);
            aes.Decrypt(nonce, ciphertext[..^TagLength], ciphertext[^TagLength..], padded);
        }
        catch (CryptographicException e)
        {
            throw BadRequest($"decryption failed ({e.Message})");
        }

        var end = padded.Length - 1;
        while (end >= 0 && padded[end] == 0) end--;
        if (end < 0) throw BadRequest("record has no padding delimiter");
        // 0x02 marks the last record; 0x01 would promise another, which a single-record message cannot have.
        if (padded[end] != 0x02) throw BadRequest($"padding delimiter is 0x{padded[end]:x2}, not 0x02 (last record)");
        return padded[..end];
    }

    private static ECDiffieHellman ImportPoint(byte[] point)
    {
        if (point[0] != 0x04) throw BadRequest("keyid is not an uncompressed point");
        try
        {
            return ECDiffieHellman.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = point[1..33], Y = point[33..] },
            });
        }
        catch (CryptographicException e)
        {
            throw BadRequest($"keyid is not a P-256 public key ({e.Message})");
        }
    }

    private static Rejection BadRequest(string reason) => new(HttpStatusCode.BadRequest, reason);
}
