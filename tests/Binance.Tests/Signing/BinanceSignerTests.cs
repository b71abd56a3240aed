using System.Text;
using TradeEngine.Binance.Signing;

namespace TradeEngine.Binance.Tests.Signing;

public class BinanceSignerTests
{
    // Binance API documentation, "SIGNED Endpoint Examples for POST /api/v3/order" (HMAC keys).
    private const string DocSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    private const string DocQuery = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
    private const string DocSignature = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";

    // USDⓈ-M futures documentation, "SIGNED Endpoint Examples for POST /fapi/v1/order - HMAC Keys".
    private const string FuturesSecret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
    private const string FuturesQuery = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";
    private const string FuturesSignature = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9";

    [Fact]
    public void Sign_DocumentedExample_MatchesByteForByte()
    {
        Assert.Equal(DocSignature, BinanceSigner.Sign(DocSecret, DocQuery));
    }

    [Fact]
    public void Sign_FuturesDocumentedExample_MatchesByteForByte()
    {
        Assert.Equal(FuturesSignature, BinanceSigner.Sign(FuturesSecret, FuturesQuery));
    }

    [Fact]
    public void Sign_LongPayloadBeyondStackBuffer_MatchesShortPathResult()
    {
        var payload = DocQuery + "&x=" + new string('a', 5000);
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(DocSecret), Encoding.UTF8.GetBytes(payload)));
        Assert.Equal(expected, BinanceSigner.Sign(DocSecret, payload));
    }

    [Fact]
    public void Verify_UpperCaseSignature_IsAcceptedAsBinanceDoes()
    {
        Assert.True(BinanceSigner.Verify(Encoding.UTF8.GetBytes(DocSecret), DocQuery, DocSignature.ToUpperInvariant()));
    }

    [Fact]
    public void Verify_OneCharacterChangedInPayload_IsRejected()
    {
        Assert.False(BinanceSigner.Verify(Encoding.UTF8.GetBytes(DocSecret), DocQuery.Replace("price=0.1", "price=0.2", StringComparison.Ordinal), DocSignature));
    }
}

public class ClientOrderIdsTests
{
    [Fact]
    public void FromIdempotencyKey_SameKeyTwice_GivesSameId()
    {
        var key = "position-42/open at 2026-11-25T10:00:00Z";
        Assert.Equal(ClientOrderIds.FromIdempotencyKey(key), ClientOrderIds.FromIdempotencyKey(key));
    }

    [Theory]
    [InlineData("a key with spaces and ümlauts")]
    [InlineData("0123456789012345678901234567890123456789-longer-than-36")]
    [InlineData("te-looks-like-a-hash")]
    public void FromIdempotencyKey_KeyOutsidePattern_IsHashedIntoPattern(string key)
    {
        var id = ClientOrderIds.FromIdempotencyKey(key);
        Assert.Matches(@"^[\.A-Z\:/a-z0-9_-]{1,36}$", id);
        Assert.StartsWith("te-", id, StringComparison.Ordinal);
        Assert.NotEqual(key, id);
    }

    [Fact]
    public void FromIdempotencyKey_ValidShortKey_IsKeptReadable()
    {
        Assert.Equal("exec:pos-7/open", ClientOrderIds.FromIdempotencyKey("exec:pos-7/open"));
    }

    [Fact]
    public void FromIdempotencyKey_DifferentKeys_GiveDifferentIds()
    {
        Assert.NotEqual(ClientOrderIds.FromIdempotencyKey("order one with spaces"), ClientOrderIds.FromIdempotencyKey("order two with spaces"));
    }
}
