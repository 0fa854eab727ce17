"""Vocabulary of the synthetic Yelp corpus: metros and their cities, category families, chains, and
the words that business names and addresses are made of."""

from __future__ import annotations

# metro: (centre lat, lon, [(city, state, share, postcode prefix)]); a 5-char prefix is a Canadian FSA
METROS: list[tuple[str, float, float, list[tuple[str, str, float, str]]]] = [
    ("Philadelphia", 39.952, -75.164, [
        ("Philadelphia", "PA", 8, "191"), ("Ardmore", "PA", 1, "19003"), ("Elkins Park", "PA", 1, "19027"),
        ("West Chester", "PA", 1, "193"), ("Doylestown", "PA", 1, "18901"), ("Cherry Hill", "NJ", 2, "080"),
        ("Haddonfield", "NJ", 1, "08033"), ("Camden", "NJ", 1, "081"), ("Mount Holly", "NJ", 1, "08060"),
        ("Trenton", "NJ", 1, "086")]),
    ("Edmonton", 53.546, -113.494, [
        ("Edmonton", "AB", 8, "T5"), ("Sherwood Park", "AB", 2, "T8H"), ("St. Albert", "AB", 1, "T8N"),
        ("Spruce Grove", "AB", 1, "T7X"), ("Leduc", "AB", 1, "T9E"), ("Beaumont", "AB", 1, "T4X")]),
    ("Tampa", 27.951, -82.457, [
        ("Tampa", "FL", 6, "336"), ("Clearwater", "FL", 2, "337"), ("Saint Petersburg", "FL", 2, "337"),
        ("Brandon", "FL", 1, "33511"), ("Lutz", "FL", 1, "33549"), ("Largo", "FL", 1, "337"),
        ("Wesley Chapel", "FL", 1, "33544"), ("Dunedin", "FL", 1, "34698")]),
    ("Nashville", 36.163, -86.781, [
        ("Nashville", "TN", 6, "372"), ("Franklin", "TN", 2, "370"), ("Brentwood", "TN", 1, "37027"),
        ("Hendersonville", "TN", 1, "37075"), ("Madison", "TN", 1, "37115"), ("Hermitage", "TN", 1, "37076"),
        ("Antioch", "TN", 1, "37013"), ("Murfreesboro", "TN", 1, "371")]),
    ("St. Louis", 38.627, -90.199, [
        ("St. Louis", "MO", 5, "631"), ("Ballwin", "MO", 1, "63011"), ("Florissant", "MO", 1, "63031"),
        ("Ladue", "MO", 1, "63124"), ("Kirkwood", "MO", 1, "63122"), ("Affton", "MO", 1, "63123"),
        ("Brentwood", "MO", 1, "63144"), ("Collinsville", "IL", 1, "62234"), ("Belleville", "IL", 1, "622"),
        ("O'Fallon", "IL", 1, "62269")]),
    ("Indianapolis", 39.768, -86.158, [
        ("Indianapolis", "IN", 6, "462"), ("Carmel", "IN", 2, "46032"), ("Fishers", "IN", 2, "46037"),
        ("Greenwood", "IN", 1, "46142"), ("Noblesville", "IN", 1, "46060"), ("Zionsville", "IN", 1, "46077"),
        ("Speedway", "IN", 1, "46224"), ("Avon", "IN", 1, "46123")]),
    ("Reno", 39.530, -119.814, [
        ("Reno", "NV", 6, "895"), ("Sparks", "NV", 2, "89431"), ("Verdi", "NV", 1, "89439"),
        ("Carson City", "NV", 1, "89701")]),
    ("Tucson", 32.222, -110.975, [
        ("Tucson", "AZ", 6, "857"), ("Oro Valley", "AZ", 1, "85737"), ("Marana", "AZ", 1, "85653"),
        ("Sahuarita", "AZ", 1, "85629"), ("Vail", "AZ", 1, "85641")]),
]

# family: (top-level category, leaf categories, name nouns, probability of ByAppointmentOnly True)
FAMILIES: list[tuple[str, list[str], list[str], float]] = [
    ("Restaurants", ["Mexican", "Italian", "Chinese", "Pizza", "Sushi Bars", "Japanese", "Thai", "Indian",
                     "Burgers", "Sandwiches", "Breakfast & Brunch", "American (New)", "American (Traditional)",
                     "Seafood", "Steakhouses", "Vegan", "Vegetarian", "Bangladeshi", "Himalayan/Nepalese",
                     "French", "Southern", "Cajun/Creole", "Korean", "Vietnamese", "Greek", "Mediterranean",
                     "Middle Eastern", "Asian Fusion", "Delis", "Diners", "Salad", "Soup", "Chicken Wings",
                     "Barbeque", "Tacos", "Tex-Mex", "Hot Dogs", "Fast Food", "Cafes", "Noodles", "Ramen",
                     "Dim Sum", "Tapas Bars", "Gastropubs", "Pakistani", "Ethiopian", "Cuban", "Caribbean"],
     ["Grill", "Kitchen", "Bistro", "Cafe", "Diner", "Eatery", "Restaurant", "Table", "House", "Cantina"], 0.02),
    ("Nightlife", ["Bars", "Wine Bars", "Cocktail Bars", "Sports Bars", "Dive Bars", "Pubs", "Beer Bar",
                   "Brewpubs", "Breweries", "Lounges", "Karaoke", "Music Venues", "Dance Clubs", "Hookah Bars"],
     ["Tavern", "Pub", "Taproom", "Lounge", "Bar", "Saloon", "Brewing Co."], 0.0),
    ("Food", ["Bakeries", "Desserts", "Ice Cream & Frozen Yogurt", "Donuts", "Bagels", "Coffee & Tea",
              "Juice Bars & Smoothies", "Specialty Food", "Imported Food", "Grocery", "Convenience Stores",
              "Butcher", "Farmers Market", "Food Trucks", "Candy Stores", "Chocolatiers & Shops",
              "Beer, Wine & Spirits", "Ethnic Grocery", "Tea Rooms", "Cupcakes"],
     ["Bakery", "Market", "Creamery", "Coffee", "Sweets", "Pantry", "Provisions"], 0.0),
    ("Beauty & Spas", ["Hair Salons", "Nail Salons", "Barbers", "Day Spas", "Massage", "Skin Care", "Waxing",
                       "Eyelash Service", "Tanning", "Cosmetics & Beauty Supply", "Hair Removal",
                       "Hair Extensions", "Blow Dry/Out Services", "Makeup Artists"],
     ["Salon", "Nails & Spa", "Barber Co.", "Beauty Bar", "Spa", "Studio", "Beauty Supply"], 0.45),
    ("Health & Medical", ["Dentists", "General Dentistry", "Cosmetic Dentists", "Periodontists", "Orthodontists",
                          "Doctors", "Orthopedists", "Chiropractors", "Optometrists", "Physical Therapy",
                          "Urgent Care", "Diagnostic Imaging", "Dermatologists", "Pediatricians",
                          "Family Practice", "Acupuncture", "Counseling & Mental Health"],
     ["Dental", "Dentistry", "Medical Group", "Family Practice", "Health Center", "Clinic", "Eye Care"], 0.7),
    ("Automotive", ["Auto Repair", "Oil Change Stations", "Auto Glass Services", "Windshield Installation & Repair",
                    "Body Shops", "Tires", "Car Dealers", "Car Wash", "Auto Detailing", "Car Buyers", "Towing",
                    "Gas Stations", "Auto Parts & Supplies", "Transmission Repair", "Motorcycle Repair"],
     ["Auto Care", "Automotive", "Tire & Auto", "Collision", "Motors", "Auto Glass", "Detailing"], 0.25),
    ("Home Services", ["Plumbing", "Electricians", "Heating & Air Conditioning/HVAC", "Contractors", "Movers",
                       "Home Cleaning", "Landscaping", "Roofing", "Real Estate", "Apartments",
                       "Property Management", "Home Organization", "Handyman", "Pest Control", "Painters",
                       "Flooring", "Windows Installation", "Structural Engineers", "Home Inspectors",
                       "Gutter Services", "Tree Services", "Carpet Cleaning"],
     ["Plumbing", "Electric", "Home Services", "Moving", "Cleaning Co.", "Roofing", "Apartments", "Builders"], 0.5),
    ("Local Services", ["Dry Cleaning", "Laundry Services", "Shipping Centers", "Printing Services",
                        "Couriers & Delivery Services", "Self Storage", "Sewing & Alterations", "Shoe Repair",
                        "Keys & Locksmiths", "Electronics Repair", "Junk Removal & Hauling",
                        "Mobile Phone Repair", "Notaries", "Appliances & Repair"],
     ["Cleaners", "Shipping", "Storage", "Repair", "Locksmith", "Alterations", "Hauling"], 0.2),
    ("Professional Services", ["Lawyers", "Divorce & Family Law", "Immigration Law", "Criminal Defense Law",
                               "Accountants", "Tax Services", "Insurance", "Marketing", "Web Design",
                               "Employment Agencies", "Personal Injury Law", "Financial Advising", "Architects"],
     ["Law Office", "Law Group", "Associates", "Partners", "Advisors", "Consulting", "Agency"], 0.6),
    ("Arts & Entertainment", ["Museums", "Art Galleries", "Cinema", "Performing Arts", "Casinos", "Festivals",
                              "Arcades", "Escape Games", "Botanical Gardens", "Jazz & Blues", "Stadiums & Arenas"],
     ["Gallery", "Theater", "Arts Center", "Cinema", "Playhouse", "Arcade"], 0.05),
    ("Active Life", ["Gyms", "Fitness & Instruction", "Yoga", "Pilates", "Trainers", "Parks", "Golf", "Bowling",
                     "Tours", "ATV Rentals/Tours", "Boating", "Swimming Pools", "Martial Arts", "Climbing",
                     "Cycling Classes", "Dance Studios", "Kids Activities", "Playgrounds"],
     ["Fitness", "Yoga", "Athletic Club", "Gym", "Studio", "Adventures", "Lanes"], 0.3),
    ("Pets", ["Pet Stores", "Pet Groomers", "Veterinarians", "Dog Walkers", "Pet Sitting", "Pet Training",
              "Pet Boarding"],
     ["Pet Care", "Animal Hospital", "Grooming", "Pet Supply", "Dog Spa", "Vet Clinic"], 0.55),
    ("Education", ["Preschools", "Tutoring Centers", "Cooking Classes", "Driving Schools", "Art Schools",
                   "Language Schools", "Music Schools", "Test Preparation"],
     ["Academy", "School", "Learning Center", "Institute", "Classes"], 0.35),
    ("Event Planning & Services", ["Wedding Planning", "Caterers", "Photographers", "Party Supplies",
                                   "Venues & Event Spaces", "DJs", "Bridal", "Limos", "Party Equipment Rentals",
                                   "Balloon Services", "Officiants"],
     ["Events", "Catering", "Photography", "Bridal", "Limousine", "Party Rentals"], 0.5),
    ("Shopping", ["Fashion", "Women's Clothing", "Men's Clothing", "Shoe Stores", "Jewelry", "Formal Wear",
                  "Discount Store", "Department Stores", "Wholesale Stores", "Electronics", "Mobile Phones",
                  "Books", "Mags", "Music & Video", "Videos & Video Game Rental", "Furniture Stores",
                  "Home Decor", "Hardware Stores", "Nurseries & Gardening", "Thrift Stores", "Florists",
                  "Flowers & Gifts", "Gift Shops", "Toy Stores", "Sporting Goods", "Bikes", "Vape Shops",
                  "Antiques", "Eyewear & Opticians", "Cannabis Dispensaries", "Pawn Shops", "Art Supplies"],
     ["Boutique", "Outlet", "Store", "Emporium", "Shop", "Supply", "Goods", "Florist"], 0.05),
    ("Hotels & Travel", ["Hotels", "Bed & Breakfast", "Travel Services", "Airport Shuttles", "Car Rental",
                         "Transportation", "Taxis", "Resorts", "Vacation Rentals"],
     ["Inn", "Suites", "Hotel", "Travel", "Shuttle", "Lodge"], 0.05),
]
FAMILY_WEIGHTS = [26, 9, 12, 11, 9, 8, 9, 6, 5, 3, 6, 3, 2, 3, 10, 3]

CHAINS: list[tuple[str, str]] = [  # name, categories
    ("Domino's Pizza", "Restaurants, Pizza, Chicken Wings, Sandwiches"), ("7-Eleven", "Convenience Stores, Food"),
    ("Walgreens", "Drugstores, Shopping, Convenience Stores, Food"), ("The Home Depot", "Hardware Stores, Shopping"),
    ("Walmart Supercenter", "Department Stores, Grocery, Food, Shopping, Discount Store"),
    ("FedEx Office Print & Ship Center", "Shipping Centers, Printing Services, Local Services"),
    ("Starbucks", "Coffee & Tea, Food"), ("McDonald's", "Fast Food, Burgers, Restaurants"),
    ("Subway", "Sandwiches, Fast Food, Restaurants"), ("Chipotle Mexican Grill", "Mexican, Restaurants, Fast Food"),
    ("Panera Bread", "Soup, Sandwiches, Salad, Restaurants, Bakeries, Food"), ("Great Clips", "Hair Salons, Beauty & Spas"),
    ("Jiffy Lube", "Oil Change Stations, Auto Repair, Automotive"), ("The UPS Store", "Shipping Centers, Local Services"),
    ("Take 5 Oil Change", "Oil Change Stations, Automotive"), ("Men's Wearhouse", "Formal Wear, Men's Clothing, Fashion, Shopping"),
    ("GameStop", "Videos & Video Game Rental, Electronics, Shopping"), ("T-Mobile", "Mobile Phones, Shopping"),
    ("Petco", "Pet Stores, Pet Groomers, Pets"), ("Einstein Bros. Bagels", "Bagels, Breakfast & Brunch, Food, Restaurants"),
    ("Enterprise Rent-A-Car", "Car Rental, Hotels & Travel"), ("Sally Beauty Supply", "Cosmetics & Beauty Supply, Beauty & Spas, Shopping"),
    ("Taco Bell", "Tex-Mex, Mexican, Fast Food, Restaurants"), ("Arby's", "Fast Food, Sandwiches, Restaurants"),
]

SURNAMES = ["Rossi", "Nguyen", "Patel", "Kim", "Garcia", "Murphy", "Schmidt", "Cohen", "Okafor", "Silva", "Tanaka",
            "Kowalski", "O'Brien", "Dubois", "Haddad", "Ivanov", "Larsen", "Moreau", "Novak", "Reyes", "Sato", "Walsh",
            "Yilmaz", "Zhang", "Baker", "Carter", "Dawson", "Ellis", "Foster", "Grant", "Hayes", "Jensen", "Knapp",
            "Lopez", "Mason", "Nolan", "Parker", "Quinn", "Russo", "Turner", "Vega", "Wright", "Becker", "Duke"]
ADJECTIVES = ["Golden", "Blue", "Little", "Urban", "Royal", "Sunny", "Green", "Silver", "Happy", "Modern", "Classic",
              "Lucky", "Red", "Rustic", "Bright", "Grand", "Prime", "Wild", "Cozy", "True", "Noble", "Fresh", "Bold"]
PLACES = ["Main Street", "Riverside", "Uptown", "Midtown", "Northside", "Lakeview", "Hillcrest", "Oak Park", "Harbor",
          "Westgate", "Parkway", "Old Town", "Southside", "Crossroads", "Eastwood", "Pinecrest", "Summit"]
STREETS = ["Broadway", "Market St", "Main St", "Oak Ave", "Maple Dr", "Fowler Ave", "Nolensville Pike", "Simpson Dr",
           "Daley St", "Queensway Dr", "Walnut St", "Chestnut St", "Spruce St", "Park Blvd", "Lake Rd", "Hill Rd",
           "Washington Ave", "Lincoln Hwy", "Jefferson St", "Elm St", "Pine St", "Cedar Ln", "Grand Ave", "Dale Mabry Hwy",
           "Central Ave", "Kingston Pike", "Olive Blvd", "Manchester Rd", "Meridian St", "Virginia St", "Speedway Blvd"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
