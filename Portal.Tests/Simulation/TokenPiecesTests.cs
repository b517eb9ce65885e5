using Portal.Gateway;
using Portal.Gateway.Simulation;

namespace Portal.Tests.Simulation;

public class TokenPiecesTests
{
    [Theory]
    [InlineData("Here is a simulated answer about tokens.")]
    [InlineData("internationalization is long; so is 12345678901 and abc123def")]
    [InlineData("  leading and trailing   \n\n spaces  ")]
    [InlineData("{\"reply\":\"Hi there.\",\"model\":\"glm-5.2\"}")]
    [InlineData("naïve café — Größe, 東京タワー, emoji 😀😀 and a\u0301 combining mark")]
    [InlineData("broken \ud800 surrogate \udc00 here")]
    [InlineData("x")]
    [InlineData("...!!!")]
    public void EachPieceIsOneTokenAndThePiecesAddUpToTheText(string text)
    {
        var pieces = TokenPieces.Split(text);

        Assert.Equal(text, string.Concat(pieces));
        Assert.All(pieces, piece => Assert.Equal(1, TokenEstimator.Count(piece)));
        Assert.Equal(TokenEstimator.Count(text), pieces.Count);
    }

    [Fact]
    public void PiecesOfRandomTextAddUpToTheText()
    {
        const string alphabet = "abcdXYZ019 .,\n\t-\"é東😀";
        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            var text = new string(Enumerable.Range(0, random.Next(0, 40)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            var pieces = TokenPieces.Split(text);

            Assert.All(pieces, piece => Assert.Equal(1, TokenEstimator.Count(piece)));
            Assert.Equal(TokenEstimator.Count(text), pieces.Count);
            if (pieces.Count > 0)
            {
                Assert.Equal(text, string.Concat(pieces));
            }
        }
    }

    [Fact]
    public void WhitespaceAloneHasNoPieces() => Assert.Empty(TokenPieces.Split(" \n "));
}
