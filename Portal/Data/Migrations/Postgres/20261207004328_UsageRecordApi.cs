using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class UsageRecordApi : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Api",
                table: "UsageRecords",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "chat/completions"); // every request before this came in through chat completions
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Api",
                table: "UsageRecords");
        }
    }
}
