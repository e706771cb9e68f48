from webhookctl.cli import main

main()
